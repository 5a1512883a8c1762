"""In-memory adapters: complete and correct, for unit tests and throwaway runs."""
