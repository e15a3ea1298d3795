"""Imported first by labgrade's entry points (cli, worker): makes nbformat import faster.

nbformat imports jsonschema, which imports rfc3987_syntax when it is installed; that module builds a
grammar at import time (1.5-3 s in every process). nbformat never checks IRIs, and every grading
worker is a fresh process, so labgrade's processes skip it (jsonschema treats it as optional).
"""
import sys

sys.modules.setdefault("rfc3987_syntax", None)
