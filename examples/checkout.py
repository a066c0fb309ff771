"""A nested e-commerce checkout, traced: 4+ levels of spans, log lines, and seeded failures.

    python examples/checkout.py                 # writes ~/logs/checkout/<time>.jsonl (or $AITRACE_TARGET)
    python examples/checkout.py out.jsonl       # writes out.jsonl
    python examples/checkout.py -               # prints the records

Offline and deterministic: failures (declined cards, out-of-stock items, a flaky inventory service that
succeeds on retry) come from ``random.Random(seed)``, so the same seed gives the same trace shape.
"""

from __future__ import annotations

import asyncio
import random
import sys
from dataclasses import dataclass
from decimal import Decimal

import aitrace_core
from aitrace_core import auto_span, get_logger, span

log = get_logger("shop.checkout")


class OutOfStock(Exception):
    """An item cannot be reserved."""


class PaymentDeclined(Exception):
    """The card was declined."""


class InventoryTimeout(Exception):
    """The inventory service did not answer in time (retryable)."""


@dataclass
class Line:
    sku: str
    qty: int
    price: Decimal


@dataclass
class Order:
    order_id: int
    user_id: int
    lines: list[Line]


class Shop:
    """The checkout's services; ``rng`` decides which calls fail."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    # level 4: the leaves
    @auto_span("inventory.lookup", kind="tool", capture_args=True, capture_result=True)
    def lookup_stock(self, sku: str) -> int:
        if self.rng.random() < 0.15:
            raise InventoryTimeout(f"inventory did not answer for {sku}")
        return self.rng.randint(0, 5)

    @auto_span("payment.authorize", kind="tool", capture_args=True)
    def authorize(self, amount: Decimal, card: str) -> str:
        log.info("contacting payment provider", amount=amount, card=card[-4:])
        if self.rng.random() < 0.2:
            raise PaymentDeclined(f"card ending {card[-4:]} declined")
        return f"auth-{self.rng.randrange(10**6):06d}"

    # level 3
    @auto_span("inventory.reserve", capture_args=True)
    def reserve(self, line: Line) -> None:
        for attempt in range(1, 4):
            try:
                available = self.lookup_stock(line.sku)
                break
            except InventoryTimeout:
                log.warning("inventory timeout, retrying", sku=line.sku, attempt=attempt)
        else:
            raise InventoryTimeout(f"gave up on {line.sku}")
        if available < line.qty:
            raise OutOfStock(f"{line.sku}: wanted {line.qty}, {available} left")
        log.info("reserved", sku=line.sku, qty=line.qty)

    # level 2
    @auto_span("checkout.reserve_items")
    def reserve_items(self, order: Order) -> None:
        for line in order.lines:
            self.reserve(line)

    @auto_span("checkout.charge", capture_result=True)
    def charge(self, order: Order) -> str:
        total = sum((line.price * line.qty for line in order.lines), Decimal("0"))
        with span("pricing.total", lines=len(order.lines)) as s:
            s.set(total=total)
        return self.authorize(total, card="4242424242424242")

    @auto_span("checkout.notify")
    async def notify(self, order: Order, auth: str) -> None:
        async with span("email.send", kind="tool", to=f"user-{order.user_id}@example.invalid"):
            await asyncio.sleep(0)
            log.info("confirmation sent", order_id=order.order_id, auth=auth)

    # level 1: the root
    @auto_span("checkout", capture_args=True, capture_result=True)
    def checkout(self, order: Order) -> str:
        log.info("checkout started", order_id=order.order_id, lines=len(order.lines))
        try:
            self.reserve_items(order)
            auth = self.charge(order)
        except (OutOfStock, PaymentDeclined, InventoryTimeout):
            log.exception("checkout failed", order_id=order.order_id)
            raise
        asyncio.run(self.notify(order, auth))
        return auth


def make_orders(rng: random.Random, n: int) -> list[Order]:
    catalog = [("BOOK-1", Decimal("12.50")), ("MUG-7", Decimal("8.00")), ("TEE-3", Decimal("19.90"))]
    orders = []
    for order_id in range(1, n + 1):
        picks = rng.sample(catalog, k=rng.randint(1, len(catalog)))
        lines = [Line(sku, rng.randint(1, 3), price) for sku, price in picks]
        orders.append(Order(order_id, rng.randint(100, 999), lines))
    return orders


def main(target: str | None = None, *, seed: int = 7, orders: int = 8) -> dict[str, int]:
    """Run ``orders`` checkouts; return how many succeeded and failed. ``target`` as in ``configure``."""
    aitrace_core.configure(service_name="checkout", target=target)
    rng = random.Random(seed)
    shop = Shop(rng)
    outcome = {"ok": 0, "failed": 0}
    try:
        for order in make_orders(rng, orders):
            try:
                shop.checkout(order)
                outcome["ok"] += 1
            except (OutOfStock, PaymentDeclined, InventoryTimeout):
                outcome["failed"] += 1
    finally:
        aitrace_core.shutdown()
    return outcome


if __name__ == "__main__":
    result = main(sys.argv[1] if len(sys.argv) > 1 else None)
    print(f"checkouts: {result['ok']} ok, {result['failed']} failed", file=sys.stderr)
