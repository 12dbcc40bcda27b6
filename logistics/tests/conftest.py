import pytest

from logistics.choices import CarrierKind
from logistics.tests.factories import CarrierAccountFactory
from logistics.tests.fakecarrier import CARRIER_ROUTES, CREDENTIALS, FakeCarrier


@pytest.fixture
def fake_carrier():
    """fake_carrier("ups") starts a local fake answering with that carrier's samples."""
    started: list[FakeCarrier] = []

    def start(carrier: str) -> FakeCarrier:
        fake = FakeCarrier(list(CARRIER_ROUTES[carrier])).start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def api_account(db, fake_carrier):
    """api_account("fedex") -> (CarrierAccount pointed at its fake, the fake)."""

    def make(carrier: str, **fields):
        fake = fake_carrier(carrier)
        account = CarrierAccountFactory(
            code=f"{carrier}-test",
            name=carrier.upper(),
            carrier=CarrierKind(carrier),
            credentials=CREDENTIALS[carrier],
            api_base_url=fake.url,
            **fields,
        )
        return account, fake

    return make
