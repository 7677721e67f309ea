"""What the test asked this provider process to do differently (through /seed/audience)."""

ID_TOKEN_AUDIENCE = ""
ID_TOKEN_CLAIMS: dict = {}  # added to every ID token, e.g. {"acr": "mfa", "amr": ["pwd", "otp"]}
