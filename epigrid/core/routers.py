"""The API router: DRF's DefaultRouter with each resource's routes under one pattern of its prefix.

Django finds a request's view by trying the URL patterns in order. DRF's router lists every route
of every resource one after the other (with their format-suffix twins, some 600 for /api/v1/), so
a request for a resource registered late tried hundreds of regular expressions, and Django kept a
list of them all: 0.2-0.4 ms of every API request, a tenth of a gate scan's web CPU (decision
0041). Here each resource's routes sit under one pattern of its prefix (its list's `.json` twin
beside it), and the prefixes under their first letter, which a request for another resource fails
at once. The URLs, their names, the format suffixes and the schema are DefaultRouter's.
"""

from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter, SimpleRouter
from rest_framework.urlpatterns import format_suffix_patterns


class GroupedRouter(DefaultRouter):
    def get_urls(self):
        registry, urls, groups = self.registry, [], {}
        try:
            for entry in registry:
                self.registry = [entry]
                prefix = entry[0]
                routes = SimpleRouter.get_urls(self)
                if self.include_format_suffixes:
                    routes = format_suffix_patterns(routes)
                under, beside = [], []  # `prefix/...` routes, and the rest (the list's `prefix.json`)
                for url in routes:
                    regex = url.pattern.regex.pattern
                    if regex.startswith(f"^{prefix}/"):
                        under.append(re_path("^" + regex[len(prefix) + 2 :], url.callback, name=url.name))
                    elif regex.startswith(f"^{prefix}"):
                        beside.append((regex[len(prefix) + 1 :], url))
                    else:  # not under its prefix: as the router made it
                        urls.append(url)
                groups.setdefault(prefix[0], []).append((prefix, under, beside))
        finally:
            self.registry = registry
        # Two levels, the first letter and then the prefix: a request fails a few dozen patterns at
        # most. Every pattern starts with the rest of its prefix: `passes` does not take `passes-x/`.
        for letter, members in groups.items():
            nested = len(members) > 1 and letter.isalnum()
            level = []
            for prefix, under, beside in members:
                head = prefix[1:] if nested else prefix
                if under:
                    level.append(re_path(f"^{head}/", include(under)))
                level += [re_path(f"^{head}{rest}", url.callback, name=url.name) for rest, url in beside]
            urls += [re_path(f"^{letter}", include(level))] if nested else level
        if self.include_root_view:
            root = [path("", self.get_api_root_view(api_urls=urls), name=self.root_view_name)]
            urls += format_suffix_patterns(root) if self.include_format_suffixes else root
        return urls
