"""Benchmarks and the Prism helpers they share with the conformance-vs-Prism tests."""
