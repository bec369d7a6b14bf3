"""Which provider makes each channel's attempts, as the settings say: the channel's HTTP
gateway when `ARREARS_CONTACT_<CHANNEL>_URL` is set, else the simulator (the default, as
`make run`), so one gateway can go live while the others are still simulated."""

from __future__ import annotations

from collections.abc import Mapping

from activities.contact import ContactProvider, ContactResult, ProviderRequest, SimulatedProvider
from activities.providers.http import HttpProvider
from arrears.settings import CONTACT_CHANNELS, Settings
from domain.events import Channel


class ByChannel:
    """A `ContactProvider` that hands each attempt to its channel's provider; the worker
    closes it (`contextlib.aclosing`) at the end, closing the gateways' connections."""

    def __init__(self, providers: Mapping[Channel, ContactProvider]) -> None:
        self.providers = dict(providers)

    @property
    def needs_destinations(self) -> bool:
        """Whether some channel goes to a real gateway, which needs the phone or address.
        The simulator needs none, so a worker with only simulated channels never decrypts
        personal data and holds no master key (least privilege)."""
        return any(isinstance(p, HttpProvider) for p in self.providers.values())

    async def attempt(self, request: ProviderRequest) -> ContactResult:
        return await self.providers[request.channel].attempt(request)

    async def aclose(self) -> None:
        for provider in self.providers.values():
            if isinstance(provider, HttpProvider):
                await provider.aclose()


def providers_from(settings: Settings) -> ByChannel:
    """The provider of every channel; the simulated channels share one simulator."""
    simulated = SimulatedProvider()
    chosen: dict[Channel, ContactProvider] = {}
    for channel in CONTACT_CHANNELS:
        gateway = settings.contact_gateway(channel)
        if gateway is None:
            chosen[channel] = simulated
        else:
            url, secret = gateway
            chosen[channel] = HttpProvider(channel, url, secret, settings.contact_timeout_seconds)
    return ByChannel(chosen)
