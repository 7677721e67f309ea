"""Patterns the API's schemas declare and check with the same expression, and what a refusal says."""

NO_NUL = "^[^\\u0000]*$"  # PostgreSQL stores no text holding NUL, and no database compares it

# A web address the model's URL validator takes, narrowed to what JSON Schema can say exactly: http or
# https, an ASCII host (a name with a top-level domain, localhost, or an IPv4 address) of at most 253
# characters, a port (0 to 65535), then printable ASCII. Empty clears the field.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = rf"(?:localhost|(?:{_LABEL}\.)+[A-Za-z]{{2,63}}|(?:{_OCTET}\.){{3}}{_OCTET})"
_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"  # 0 to 65535
WEB_URL = rf"^(?:https?://(?=[^/?#:]{{1,253}}(?:[/?#:]|$)){_HOST}(?::{_PORT})?(?:[/?#][!-~]*)?)?$"

# pydantic's message names the whole expression; a person gets these instead (crm.api.errors).
MESSAGES = {
    NO_NUL: "Must not contain NUL (\\u0000) characters.",
    WEB_URL: "Enter an http:// or https:// web address.",
}
