from tests.seed import BLUMAH, invite, kendal, round_
from storage.views import Role


async def test_flow(bot, person, sessions, clock, emulator):
    district = await kendal(sessions, clock())
    await round_(sessions, district, clock(), ceiling=500_000_000)
    code = await invite(sessions, district, Role.PAKEM, clock(), village=BLUMAH)
    await bot()
    siti = person("Siti", "en")
    await siti.send(f"/start {code}")
    steps = [
        ("press", "📝 New proposal"),
        ("send", "Betonisasi jalan RT 03"),
        ("press", "Roads and paths"),
        ("send", "Dusun Krajan RT 03"),
        ("loc", None),
        ("send", "Jalan rusak dan becek saat hujan, anak sekolah sulit lewat."),
        ("send", "120"),
        ("send", "45"),
        ("press", "➕ Add a line"),
        ("send", "Semen 50 kg"),
        ("send", "50 sak"),
        ("send", "Rp 65.000"),
        ("press", "Self-help (swadaya)"),
        ("press", "✅ Done"),
        ("photo", None),
        ("doc", None),
        ("press", "✅ Done"),
        ("press", "📨 Submit"),
    ]
    for kind, arg in steps:
        if kind == "press":
            await siti.press(arg)
        elif kind == "send":
            await siti.send(arg)
        elif kind == "loc":
            await siti.send_location(-7.0, 110.1)
        elif kind == "photo":
            await siti.send_photo()
        elif kind == "doc":
            await siti.send_document()
        print(
            f">>> {kind} {arg}\n{siti.reply_text}\n   buttons: {[b['text'] for m in siti.replies for b in m.buttons()]}"
        )
    print(emulator.refusals)
    assert not emulator.refusals
