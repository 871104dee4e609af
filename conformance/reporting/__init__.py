"""Views of a run's results: Allure annotations, the console table, certificates."""
