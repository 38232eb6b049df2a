"""Server-rendered pages for people. Views are thin: they call the services and selectors
the API calls, and templates hold only loops and conditions."""
