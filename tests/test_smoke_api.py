def test_create_and_read_contact(api, rep_a, pipeline):
    client = api(rep_a)
    r = client.post("/contacts", {"first_name": "Ann", "email": "ANN@Example.com", "phone": "202 555 0100"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["email"] == "ann@example.com"
    assert body["phone"] == "+12025550100"
    r = client.get(f"/contacts/{body['id']}")
    assert r.status_code == 200
    assert r["ETag"] == '"1"'
