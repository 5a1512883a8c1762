from tracking.entrypoints.cli import main

main()
