"""What the test asked this provider process to do differently (through /seed/audience)."""

ID_TOKEN_AUDIENCE = ""
