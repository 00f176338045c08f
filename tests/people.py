"""Simulated people: they type, tap buttons by their visible labels, and read what they got."""

from __future__ import annotations

from typing import Any

from tests.emulator.server import ChatMessage, Emulator, SimUser


class Person:
    def __init__(self, emulator: Emulator, user: SimUser) -> None:
        self.emu = emulator
        self.user = user
        self._mark = 0
        self._edit_mark = 0

    @property
    def id(self) -> int:
        return self.user.id

    # -- what they see -------------------------------------------------------------------------

    @property
    def chat(self) -> list[ChatMessage]:
        return [m for m in self.emu.messages.get(self.user.id, []) if m.from_bot]

    @property
    def replies(self) -> list[ChatMessage]:
        """Bot messages that arrived, or were edited, since this person last did something."""
        chat = self.chat
        edited = [m for m in chat[: self._mark] if m.edited > self._edit_mark]
        return edited + chat[self._mark :]

    @property
    def reply_text(self) -> str:
        return "\n---\n".join(m.text for m in self.replies)

    @property
    def last(self) -> ChatMessage:
        return self.chat[-1]

    @property
    def alerts(self) -> list[str]:
        return self.emu.alerts.get(self.user.id, [])

    def saw(self, fragment: str) -> bool:
        return any(fragment in m.text for m in self.replies)

    def button_labels(self) -> list[str]:
        return [b["text"] for m in self.chat[-6:] for b in m.buttons()]

    # -- what they do --------------------------------------------------------------------------

    async def _act(self, coro: Any) -> None:
        self._mark = len(self.chat)
        self._edit_mark = self.emu.edit_seq
        await coro
        await self.emu.idle()

    async def send(self, text: str) -> None:
        await self._act(self.emu.user_message(self.user, text=text))

    async def open_link(self, url: str) -> None:
        """Tap a t.me link or scan a poster's QR code, as the Telegram apps do."""
        await self._act(self.emu.open_link(self.user, url))

    async def send_sticker(self) -> None:
        sticker = {
            "file_id": self.emu.new_file_id("sticker"),
            "file_unique_id": "s1",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
        await self._act(self.emu.user_message(self.user, sticker=sticker))

    async def send_photo(self, caption: str | None = None) -> str:
        file_id = self.emu.new_file_id("photo")
        photo = [
            {"file_id": file_id, "file_unique_id": file_id + "u", "width": 1280, "height": 960}
        ]
        content: dict[str, Any] = {"photo": photo}
        if caption:
            content["caption"] = caption
        await self._act(self.emu.user_message(self.user, **content))
        return file_id

    async def send_document(self, name: str = "rab.pdf", mime: str = "application/pdf") -> str:
        file_id = self.emu.new_file_id("document")
        document = {
            "file_id": file_id,
            "file_unique_id": file_id + "u",
            "file_name": name,
            "mime_type": mime,
            "file_size": 12345,
        }
        await self._act(self.emu.user_message(self.user, document=document))
        return file_id

    async def send_voice(self, seconds: int = 7) -> str:
        file_id = self.emu.new_file_id("voice")
        voice = {"file_id": file_id, "file_unique_id": file_id + "u", "duration": seconds}
        await self._act(self.emu.user_message(self.user, voice=voice))
        return file_id

    async def send_location(self, latitude: float, longitude: float) -> None:
        location = {"latitude": latitude, "longitude": longitude}
        await self._act(self.emu.user_message(self.user, location=location))

    def find_button(self, label: str) -> tuple[ChatMessage, dict[str, Any]]:
        for message in reversed(self.chat):
            for button in message.buttons():
                if button.get("text") == label:
                    return message, button
        raise AssertionError(f"no button {label!r}; recent buttons: {self.button_labels()}")

    async def press(self, label: str) -> None:
        message, button = self.find_button(label)
        if "callback_data" not in button:
            raise AssertionError(f"{label!r} is not an inline button")
        await self._act(self.emu.press(self.user, message, button["callback_data"]))

    async def press_data(self, message: ChatMessage, data: str) -> None:
        """Press a button with hand-made callback_data (a forged or outdated button)."""
        await self._act(self.emu.press(self.user, message, data))

    async def tap(self, label: str) -> None:
        """A reply-keyboard button: Telegram sends its label as text."""
        self.find_button(label)
        await self.send(label)
