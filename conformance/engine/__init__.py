"""The suite's engine: catalogue cases and property stages against a target, with no pytest, Allure or CLI."""
