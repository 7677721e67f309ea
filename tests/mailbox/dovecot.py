"""A real Dovecot IMAP server for the tests: started as a process of the test run on a free loopback
port with its own configuration, users (passwd-file) and maildirs under a temporary directory.

Debian's `dovecot-imapd` (installed by `make dovecot`) provides /usr/sbin/dovecot. Run as root (a
container), the mail processes run as the `dovecot` system user, which owns the temporary tree; run
as anyone else, every Dovecot process runs as that user (Dovecot's non-root mode).
"""

from __future__ import annotations

import getpass
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = crm-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 0
mail_location = maildir:{root}/mail/%u
mail_uid = {user}
mail_gid = {group}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


def available() -> bool:
    return os.path.exists(DOVECOT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    """One server: ``add_user``, ``connect``, ``append``, ``stop``."""

    def __init__(self):
        # Its own directory under the system temp dir, not pytest's tmp_path: that one is private to
        # the test run's user (0700), and Dovecot's processes run as another user when we are root.
        self.root = root = Path(tempfile.mkdtemp(prefix="crm-dovecot-"))
        self.port = free_port()
        self.host = "127.0.0.1"
        if os.geteuid() == 0:
            self.user, self.group = "dovecot", "dovecot"
        else:
            self.user = getpass.getuser()
            self.group = pwd.getpwnam(self.user).pw_name
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        (root / "users").write_text("")
        self.config = root / "dovecot.conf"
        self.config.write_text(CONFIG.format(root=root, port=self.port, user=self.user, group=self.group))
        self._own(root)

    def _own(self, path: Path) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(self.user)
            for p in [path, *path.rglob("*")]:
                os.chown(p, entry.pw_uid, entry.pw_gid)

    def start(self) -> Dovecot:
        # The daemon keeps the standard streams it inherits: a pipe here would never close.
        subprocess.run(
            [DOVECOT, "-c", str(self.config)],
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"Dovecot did not start: {self.log()}")

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        pid_file = self.root / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            try:
                os.kill(pid, signal.SIGTERM)
                for _ in range(100):  # until it is gone, so its files can go
                    os.kill(pid, 0)
                    time.sleep(0.05)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)

    def add_user(self, name: str, password: str) -> None:
        with (self.root / "users").open("a") as f:
            f.write(f"{name}:{{PLAIN}}{password}::::::\n")

    def connect(self, name: str, password: str) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(name, password)
        return conn

    def append(self, name: str, password: str, folder: str, messages: list[bytes]) -> None:
        conn = self.connect(name, password)
        try:
            if folder.upper() != "INBOX":
                conn.create(folder)
            for raw in messages:
                typ, data = conn.append(folder, None, None, raw)
                assert typ == "OK", data
        finally:
            conn.logout()
