"""Runs the test OpenID Connect provider: ``python -m tests.oidc_provider.serve <workdir>``.

Binds a free loopback port first (the issuer URL needs it), writes a fresh RSA key and a SQLite
database into <workdir>, migrates, prints ``READY <port>`` and serves until killed."""

import os
import secrets
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main(workdir: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    server = Server(("127.0.0.1", 0), QuietHandler)
    port = server.server_address[1]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = workdir / "key.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    os.environ.update(
        DJANGO_SETTINGS_MODULE="tests.oidc_provider.settings",
        PROVIDER_SECRET_KEY=secrets.token_urlsafe(32),
        PROVIDER_DB=str(workdir / "provider.sqlite3"),
        PROVIDER_KEY_FILE=str(key_file),
        PROVIDER_ISSUER=f"http://127.0.0.1:{port}",
    )
    import django
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    django.setup()
    call_command("migrate", verbosity=0)
    server.set_app(get_wsgi_application())
    print(f"READY {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
