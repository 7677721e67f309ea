"""How much data each benchmark scale holds (the issue's figures; `tiny` is for tests)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    contacts: int
    companies: int
    deals: int
    activities: int
    board_open_deals: int  # the open deals of the "Board" pipeline the board benchmark reads

    @property
    def leads(self) -> int:
        return self.contacts // 20

    @property
    def tasks(self) -> int:
        return self.contacts // 10

    @property
    def custom_records(self) -> int:
        """Records of the custom object type ("Subscription"): as many as contacts, up to 100,000."""
        return min(self.contacts, 100_000)


SCALES = {
    "tiny": Scale("tiny", contacts=2_000, companies=400, deals=600, activities=6_000, board_open_deals=100),
    "small": Scale(
        "small", contacts=100_000, companies=20_000, deals=30_000, activities=300_000, board_open_deals=5_000
    ),
    "1m": Scale(
        "1m", contacts=1_000_000, companies=200_000, deals=300_000, activities=3_000_000, board_open_deals=5_000
    ),
}
