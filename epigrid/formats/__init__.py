"""Display formats (settings.FORMAT_MODULE_PATH): one date format in every language, Y-m-d, as
the pages, exports and notices write dates. Input formats and anything not set here come from
Django's own locale formats."""
