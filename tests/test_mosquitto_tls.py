"""TLS to the broker: edge and central verify a Mosquitto TLS listener against a private CA."""

from __future__ import annotations

import datetime as dt
import getpass
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from curbwatch.local_broker import LocalBroker, free_port
from tests.transport_kit import Db, make_camera, migrate, start_loadgen, start_worker, stop, wait_subscribed


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def make_ca_and_server_cert(folder: Path) -> tuple[Path, Path, Path]:
    now = dt.datetime.now(dt.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "curbwatch test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    ca_path, cert_path, key_path = folder / "ca.crt", folder / "server.crt", folder / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    _write_key(server_key, key_path)
    return ca_path, cert_path, key_path


def test_edge_and_central_talk_tls_and_refuse_an_unknown_ca(tmp_path):
    ca, cert, key = make_ca_and_server_cert(tmp_path / "pki")
    other_ca, _cert, _key = make_ca_and_server_cert(tmp_path / "other-pki")
    port = free_port()
    config_text = "\n".join(
        [
            f"listener {port} 127.0.0.1",
            f"user {getpass.getuser()}",
            f"cafile {ca}",
            f"certfile {cert}",
            f"keyfile {key}",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {tmp_path / 'broker'}/",
            "max_queued_messages 0",
            "",
        ]
    )
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    migrate(db_url)
    url = f"mqtts://127.0.0.1:{port}"
    with LocalBroker(tmp_path / "broker", config_text, port):
        camera = make_camera(tmp_path, "cam1", url, tls={"ca_file": str(ca)})
        untrusting = make_camera(tmp_path / "other", "cam1", url, tls={"ca_file": str(other_ca)})
        worker = start_worker(tmp_path, db_url, url, "central-1", "--ca-file", str(ca))
        db = Db(db_url)
        try:
            wait_subscribed(tmp_path)
            edge = start_loadgen(camera, 25)
            assert edge.wait(60) == 0, edge.stderr.read()
            assert db.wait_for(lambda d: d.count() == 25, 30)
            refused = start_loadgen(untrusting, 1, "--drain-timeout", "3")
            _out, err = refused.communicate(timeout=60)
            assert refused.returncode == 1 and "cannot reach the broker" in err
        finally:
            db.close()
            assert stop(worker) == 0
