"""The web pages of the service: server-rendered HTML for residents, the public and organisers.

:mod:`service.web.pages` holds the router (added in :func:`service.app.create_app`); the pages
call the same functions as the JSON API (:mod:`service.api_rounds`), so the rules live in one
place. Templates are Jinja2 (``templates/``), texts come from message catalogues
(``messages/<lang>.json``, looked up by key), CSS and JavaScript from ``static/``.
"""
