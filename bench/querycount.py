"""Bench-only: count the database queries a request makes and report them in a response header.

Django's CONN_HEALTH_CHECKS probe (a `SELECT 1` on a reused connection, once per request that
touches the database) bypasses execute wrappers, so it is not in this count. Behind nginx, an
answer from its cache carries the header of the answer it copies; bench/wrk/common.lua leaves
those out.
"""

from django.db import connection

HEADER = "X-Bench-Queries"


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = self.get_response(request)
        response[HEADER] = str(queries)
        return response
