"""The self-test of the suite against faulty emulator variants."""
