"""The outer layer: command line, API and web pages."""
