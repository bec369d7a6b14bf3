"""The collections console: server-rendered pages for collectors, supervisors, managers and
auditors (README "The console").

`app.create_app` builds the FastAPI application; `auth` proves who is asking (sessions in
PostgreSQL, CSRF tokens, one permission table); `rendering` turns a template into a page
in the user's language; `pages/` holds one module per page. The pages read the read
models in PostgreSQL and steer cases through the same code as the CLI
(`arrears.cases`), so a rule is never checked in two places.
"""
