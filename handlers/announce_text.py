"""What the POKJA reads when an announcement draft is refused."""

from __future__ import annotations

from aiogram.utils.i18n import lazy_gettext as __

from bot.errors import Code
from handlers.formats import ErrorText, says

ANNOUNCEMENT_TEXTS: dict[Code, ErrorText] = {
    Code.ANNOUNCEMENT_EMPTY: says(
        __("The announcement is empty. Please write its text, or send a photo or document.")
    ),
    Code.ANNOUNCEMENT_TOO_LONG: says(
        __(
            "The announcement is too long: {length} characters, at most {limit}. "
            "Please shorten it and send it again."
        )
    ),
    Code.TOO_MANY_PLACES: says(
        __("At most {limit} places can be chosen. Choose the whole district instead.")
    ),
    Code.NO_PLACES: says(__("Choose at least one place first, or change the recipients.")),
    Code.ANNOUNCEMENT: says(__("That announcement no longer exists. /announce starts a new one.")),
    Code.ANNOUNCEMENT_SENT: says(
        __("This announcement was already sent or discarded. /announcements lists them.")
    ),
    Code.STEP: says(__("That button belongs to an earlier step. /announce shows where you are.")),
    # /announce answers it with the districts to choose from; the text is for any other path.
    Code.CHOOSE_DISTRICT: says(__("Choose the district of the announcement first.")),
    Code.VILLAGE: says(__("That place is not part of this district.")),
    Code.QUERY_SHORT: says(__("Please type at least 3 letters of the village name.")),
}
