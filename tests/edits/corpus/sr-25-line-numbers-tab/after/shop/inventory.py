"""Stock levels of a small shop."""

from dataclasses import dataclass, field


@dataclass
class Item:
    sku: str
    price: float
    quantity: int = 0


@dataclass
class Inventory:
    items: dict[str, Item] = field(default_factory=dict)

    def add(self, item: Item) -> None:
        if item.sku in self.items:
            self.items[item.sku].quantity += item.quantity
        else:
            self.items[item.sku] = item

    def remove(self, sku: str, quantity: int) -> None:
        item = self.items[sku]
        item.quantity -= quantity

    def value(self) -> float:
        return sum(item.price * item.quantity for item in self.items.values())

    def low_stock(self, threshold: int = 5) -> list[str]:
        return [sku for sku, item in self.items.items() if item.quantity < threshold]


def restock(inventory: Inventory, sku: str, quantity: int) -> None:
    inventory.items[sku].quantity += quantity
