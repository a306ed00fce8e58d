class Stack:
    """A LIFO stack."""

    def __init__(self):
        self.items = []

    def push(self, item):
        self.items.append(item)

    def pop(self):
        return self.items.pop()

    @property
    def size(self):
        return len(self.items)
