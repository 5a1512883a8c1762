"""JSON request bodies decoded by msgspec in one pass, straight into the handler's type.

Litestar's default decodes to Python objects and then converts them; this reads the bytes once,
insists on a JSON content type (415 otherwise), and reports a bad field by name. A handler may
declare a different `documented` type, so a batch can be decoded item by item while the OpenAPI
schema still shows what a good body looks like."""

import re
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import msgspec
from litestar.dto import AbstractDTO, DTOFieldDefinition
from litestar.exceptions import HTTPException
from litestar.openapi.spec import Reference, Schema
from litestar.typing import FieldDefinition

from tracking.domain.errors import FieldError, InvalidInput

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.dto._backend import DTOBackend

T = TypeVar("T")

_JSON = re.compile(r"application/(?:[\w.+-]+\+)?json\s*(?:;(?P<parameters>.*))?", re.IGNORECASE)
_CHARSET = re.compile(r"""(?:^|;)\s*charset\s*=\s*"?([^";\s]*)"?""", re.IGNORECASE)
_UTF8 = {"utf-8", "utf8"}


class JsonBody(AbstractDTO[T], Generic[T]):
    documented: ClassVar[type[Any] | None] = None

    @classmethod
    def generate_field_definitions(
        cls, model_type: type[Any]
    ) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    @classmethod
    def create_for_field_definition(
        cls,
        field_definition: FieldDefinition,
        handler_id: str,
        backend_cls: "type[DTOBackend] | None" = None,
    ) -> None:
        return None

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: "SchemaCreator"
    ) -> Reference | Schema:
        shown = cls.documented or cls.model_type
        return schema_creator.for_field_definition(FieldDefinition.from_annotation(shown))

    def decode_bytes(self, value: bytes) -> T:
        content_type = self.asgi_connection.headers.get("content-type", "")
        declared = _JSON.fullmatch(content_type)
        if declared is None:
            raise HTTPException(
                status_code=415,
                detail=f"send the body as Content-Type: application/json, not {content_type!r}",
            )
        charset = _CHARSET.search(declared["parameters"] or "")
        if charset is not None and charset[1].lower() not in _UTF8:
            raise InvalidInput(
                "invalid_encoding",
                f"the body must be JSON in UTF-8, not in {charset[1]!r}: drop the charset or "
                "declare charset=utf-8",
            )
        return decode_json(value, self.model_type)


def decode_json(value: bytes, model_type: type[T]) -> T:
    try:
        return msgspec.json.decode(value, type=model_type)
    except msgspec.ValidationError as error:
        raise invalid_body(error) from None
    except msgspec.DecodeError as error:
        raise InvalidInput("malformed_json", f"the body is not valid JSON: {error}") from None
    except UnicodeDecodeError as error:
        raise not_utf8(error, "the body") from None
    except RecursionError:
        raise InvalidInput("invalid_body", "the body nests too deeply to read") from None


def field_error(error: msgspec.ValidationError, root: str = "body") -> FieldError:
    """msgspec says "Expected `str`, got `int` - at `$.events[2].action`"; we say which field."""
    message, _, path = str(error).partition(" - at `$")
    field = path.rstrip("`").lstrip(".") or root
    return FieldError(field=field, message=message)


def invalid_body(error: msgspec.ValidationError) -> InvalidInput:
    problem = field_error(error)
    return InvalidInput("invalid_body", f"{problem.field}: {problem.message}", errors=[problem])


def not_utf8(error: UnicodeDecodeError, what: str) -> InvalidInput:
    """JSON text is UTF-8 (RFC 8259): a string holding any other byte cannot be read."""
    byte = error.object[error.start : error.start + 1].hex()
    return InvalidInput(
        "invalid_encoding",
        f"{what} is not valid UTF-8: byte 0x{byte} in a string cannot be read as text",
    )
