"""Messages that go to people other than the one who pressed the button."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.proposals import Submitted
from bot.text import join_blocks, q
from handlers.render import summary_blocks
from storage.views import PersonView

log = logging.getLogger(__name__)


async def send_submission_confirmations(
    bot: Bot, result: Submitted, submitter: PersonView, now: datetime
) -> None:
    """The full summary to the submitter and to every member of the village's PAKEM."""
    i18n = get_i18n()
    recipients = {p.telegram_id: p.locale for p in result.committee}
    recipients.setdefault(submitter.telegram_id, submitter.locale)
    view = result.proposal
    for chat_id, locale in recipients.items():
        with i18n.use_locale(locale if locale in i18n.available_locales else i18n.default_locale):
            if chat_id == submitter.telegram_id:
                head = _(
                    "✅ Submitted! Your proposal has number <b>{number}</b>. Every member "
                    "of your committee receives this summary."
                ).format(number=view.number)
            else:
                head = _("✅ {name} submitted proposal <b>{number}</b> for your village.").format(
                    name=q(submitter.full_name), number=view.number
                )
            try:
                for chunk in join_blocks([head, *summary_blocks(view, now)]):
                    await bot.send_message(chat_id, chunk)
            except (TelegramForbiddenError, TelegramBadRequest, TelegramRetryAfter) as exc:
                # One member who blocked the bot must not cost the others their copy.
                log.warning("confirmation to %s not delivered: %s", chat_id, exc)
