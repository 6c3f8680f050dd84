def main() -> int:
    print("se")
    return 0
