from tests.console.conftest import Console
from tests.console.helpers import log_in


async def test_pages(console: Console) -> None:
    c = console.client
    r = await log_in(c, "coordinator@alder.example")
    assert r.status_code == 303, r.text
    for path in ["/console/board", "/console/homes", f"/console/homes/{console.world.a.home}", f"/console/alerts/{console.world.a.alert}", "/console/board/alerts"]:
        r = await c.get(path)
        print(path, r.status_code, len(r.text))
        assert r.status_code == 200, r.text[:3000]
    r = await c.get(f"/console/homes/{console.world.b.home}")
    assert r.status_code == 404
