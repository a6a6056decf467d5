import cProfile, pstats, time, uuid
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from tests.checkpoint_cast import gates


def test_probe(cast):
    g = gates(cast)
    people = [g.person(name=f"p{i}") for i in range(220)]
    token = Token.objects.create(user=g.staff_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    def one(p):
        body = {"scans": [{"client_id": str(uuid.uuid4()), "checkpoint": g.gate_a.pk, "direction": "in",
                           "health_code": "green", "temperature": "36.5", "person": {"doc_number": p.doc_number}}]}
        r = client.post("/api/v1/passages/batch/", body, format="json")
        assert r.status_code == 200 and r.json()[0]["outcome"] == "accepted", r.content
    for p in people[:20]:
        one(p)
    prof = cProfile.Profile()
    t = time.process_time()
    prof.enable()
    for p in people[20:]:
        one(p)
    prof.disable()
    print("cpu ms/scan", (time.process_time() - t) * 1000 / 200)
    st = pstats.Stats(prof)
    st.sort_stats("tottime").print_stats(30)
