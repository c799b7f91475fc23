"""The web console: server-rendered pages for coordinators, families and carers under /console."""
