from __future__ import annotations

import requests

from b2_storage.emulator import LocalB2


def test_fixture_serves_authorize(b2_server: LocalB2) -> None:
    response = requests.get(
        f"{b2_server.realm}/b2api/v4/b2_authorize_account",
        auth=(b2_server.application_key_id, b2_server.application_key),
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["apiInfo"]["storageApi"]["apiUrl"] == b2_server.realm
    assert b2_server.calls["b2_authorize_account"] == 1
