"""Certificates made at run time (trustme) for `cpis serve` over mutual TLS, and the
endpoint registry that names the clients."""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

ED = "ed.example-trust.nhs.uk"  # the local registry's unscheduled-care endpoint, ASID ...001
GP = "gp.example-practice.nhs.uk"  # its scheduled-care endpoint, ASID ...002
REGISTRY = {
    "job_roles": ["R8000", "R8003"],
    "endpoints": [
        {"asid": "200000000001", "certificate": ED, "organisations": ["RXX01"],
         "interactions": ["QUPC_IN000006GB01"], "care": "unscheduled"},
        {"asid": "200000000002", "certificate": GP, "organisations": ["A99001"],
         "interactions": ["QUPC_IN000006GB01"], "care": "scheduled"},
    ],
}


@dataclass(frozen=True)
class TlsFiles:
    folder: Path
    ca: trustme.CA

    @property
    def ca_pem(self) -> Path:
        return self.folder / "client-ca.pem"

    def client(self, common_name: str) -> Path:
        """A client certificate and key (one PEM) with this subject CN, signed by the CA."""
        path = self.folder / f"client-{common_name}.pem"
        if not path.exists():
            self.ca.issue_cert(common_name, common_name=common_name) \
                .private_key_and_cert_chain_pem.write_to_path(str(path))
        return path

    def client_context(self, common_name: str | None = ED) -> ssl.SSLContext:
        """A client that trusts the server's CA and presents `common_name`'s certificate
        (none when None)."""
        context = ssl.create_default_context(cafile=str(self.ca_pem))
        if common_name is not None:
            context.load_cert_chain(str(self.client(common_name)))
        return context

    def server_env(self) -> dict[str, str]:
        return {"CPIS_TLS_CERT": str(self.folder / "server.pem"),
                "CPIS_TLS_KEY": str(self.folder / "server.key"),
                "CPIS_TLS_CLIENT_CA": str(self.ca_pem),
                "CPIS_ENDPOINT_REGISTRY": str(self.folder / "endpoints.json")}


def make_tls(folder: Path) -> TlsFiles:
    """One CA signing the server's certificate (for 127.0.0.1) and the clients'."""
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(folder / "client-ca.pem"))
    server = ca.issue_cert("127.0.0.1", "localhost")
    server.cert_chain_pems[0].write_to_path(str(folder / "server.pem"))
    server.private_key_pem.write_to_path(str(folder / "server.key"))
    (folder / "endpoints.json").write_text(json.dumps(REGISTRY))
    return TlsFiles(folder, ca)
