"""Greets someone.

Usage: app.py <name>
"""
from docopt import docopt

print("hello,", docopt(__doc__)["<name>"])
