"""The documented Mosquitto configuration (docs/mosquitto/) as a real broker: password file and ACL."""

from __future__ import annotations

import getpass
import re
import subprocess
from pathlib import Path

from curbwatch.local_broker import LocalBroker, free_port
from tests.conftest import ROOT
from tests.transport_kit import Db, make_camera, migrate, start_loadgen, start_worker, stop

DOCS = ROOT / "docs" / "mosquitto"


def documented_broker(tmp: Path) -> LocalBroker:
    """docs/mosquitto/mosquitto.conf with only the port and the file locations changed."""
    port = free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    passwords = tmp / "curbwatch.passwd"
    for user, password in (("cam1", "pw-cam1"), ("central", "pw-central")):
        create = ["-c"] if not passwords.exists() else []
        subprocess.run(["mosquitto_passwd", *create, "-b", str(passwords), user, password], check=True)
    (tmp / "curbwatch.acl").write_text((DOCS / "curbwatch.acl").read_text())
    text = (DOCS / "mosquitto.conf").read_text()
    substitutions = {
        r"^listener 1883 127\.0\.0\.1$": f"listener {port} 127.0.0.1\nuser {getpass.getuser()}",
        r"^password_file .*$": f"password_file {passwords}",
        r"^acl_file .*$": f"acl_file {tmp / 'curbwatch.acl'}",
        r"^persistence_location .*$": f"persistence_location {tmp}/",
    }
    for pattern, replacement in substitutions.items():
        text, found = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        assert found == 1, f"{pattern} is no longer in the documented configuration"
    return LocalBroker(tmp, text, port)


def secret(tmp: Path, name: str, value: str) -> str:
    path = tmp / name
    path.write_text(value + "\n")
    return str(path)


def test_documented_broker_admits_cameras_only_to_their_own_topics(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    migrate(db_url)
    with documented_broker(tmp_path / "broker") as broker:
        cam1_password = secret(tmp_path, "cam1.pw", "pw-cam1")
        own = make_camera(tmp_path, "cam1", broker.url, username="cam1", password_file=cam1_password)
        # cam1's credentials, but a config that publishes under cam2's topics: the ACL must refuse it.
        impostor = make_camera(tmp_path, "cam2", broker.url, username="cam1", password_file=cam1_password)
        wrong = make_camera(
            tmp_path / "wrong", "cam1", broker.url, username="cam1", password_file=secret(tmp_path, "bad.pw", "nope")
        )
        worker = start_worker(
            tmp_path,
            db_url,
            broker.url,
            "central-1",
            "--username",
            "central",
            "--password-file",
            secret(tmp_path, "central.pw", "pw-central"),
        )
        db = Db(db_url)
        try:
            ok = start_loadgen(own, 20)
            assert ok.wait(60) == 0, ok.stderr.read()
            assert db.wait_for(lambda d: d.count() == 20, 30)

            # Mosquitto 2.0 accepts the connection, then answers the first publish under cam2's topics with
            # "Not authorized" and drops the client; under load the socket can close before that PUBACK is
            # read, so either sign of the refusal will do. What matters is that nothing reaches central.
            refused = start_loadgen(impostor, 5, "--drain-timeout", "3")
            _out, err = refused.communicate(timeout=60)
            assert refused.returncode == 1 and "outbox is not empty" in err
            assert "Not authorized" in err or "disconnected from the broker" in err

            bad_login = start_loadgen(wrong, 3, "--drain-timeout", "3")
            _out, err = bad_login.communicate(timeout=60)
            assert bad_login.returncode == 1 and "outbox is not empty" in err
            assert "Bad user name or password" in err or "Not authorized" in err
            assert db.count() == 20
        finally:
            db.close()
            assert stop(worker) == 0
