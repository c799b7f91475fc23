"""SMS (and any other service apprise knows) through an apprise URL naming the number as {to}."""

from __future__ import annotations

from urllib.parse import quote

import apprise

from notifications.channels.base import ChannelError, Outcome, Outgoing


class SmsChannel:
    """Sends the message's SMS form through the configured provider."""

    def __init__(self, url_template: str | None) -> None:
        self.url_template = url_template

    async def send(self, outgoing: Outgoing) -> Outcome:
        """Hand the text to the provider; its acceptance counts as sent."""
        if not self.url_template:
            raise ChannelError("no SMS provider is configured (TELECARE_NOTIFY_SMS_URL)")
        sender = apprise.Apprise()
        if not sender.add(self.url_template.replace("{to}", quote(outgoing.address, safe="+"))):
            raise ChannelError("the SMS provider URL is not one apprise understands", permanent=True)
        ok = await sender.async_notify(body=outgoing.message.sms or outgoing.message.text, title="")
        if not ok:
            raise ChannelError("the SMS provider did not accept the message")
        return Outcome("sent", "SMS provider accepted it")
