def main() -> int:
    print("jobs")
    return 0
