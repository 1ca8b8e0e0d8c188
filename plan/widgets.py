"""(being written)"""


def connect() -> None:
    return None
