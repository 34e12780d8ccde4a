"""trailtui: investigate AWS CloudTrail events in the terminal.

Kept free of Textual imports so that the data layer and headless mode stay cheap to start.
"""

__version__ = "0.1.0"
