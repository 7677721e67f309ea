"""The import wizard in the web app (upload -> mapping -> dry-run preview -> background import ->
progress -> result and undo), the imports list, and the API's background flag. Jobs are run the
way the worker does, through crm.automation.jobs.run_due."""

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from crm.automation import jobs
from crm.automation.models import Job
from crm.core.errors import BadRequest
from crm.dataio import background
from crm.dataio.models import ImportBatch, ImportMapping
from crm.records.models import Contact
from crm.records.services.contacts import contact_create
from tests.factories import builtin_role

CSV = (
    "First Name,Last Name,E-mail Address,Notes\n"
    "Ann,Lee,ann@acme.example,met at fair\n"
    "Bob,Stone,bob@acme.example,\n"
    "Cid,Moss,not-an-email,\n"
)


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # stored uploads go to var/imports/ under this test's own folder
    return tmp_path


def stored_files(tmp_path) -> list[str]:
    folder = tmp_path / "imports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def upload(client, text=CSV, object_type="contacts", name="people.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(f"/imports/{object_type}/new/", {"file": SimpleUploadedFile(name, data, "text/csv")})


def token_of(response) -> str:
    return re.search(r"/imports/wizard/([^/]+)/map/", response["Location"]).group(1)


def mapping_form(response) -> dict:
    """The mapping page's selects with their selected options, as the browser would post them."""
    html = response.content.decode()
    form = {}
    for name, body in re.findall(r'<select id="map-\d+" name="(map_\d+)">(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        form[name] = chosen.group(1) if chosen else ""
    return form


def through_preview(client, text=CSV, **post):
    token = token_of(upload(client, text))
    page = client.get(f"/imports/wizard/{token}/map/")
    r = client.post(f"/imports/wizard/{token}/map/", {**mapping_form(page), **post})
    assert r.status_code == 302 and r["Location"] == f"/imports/wizard/{token}/preview/", r.content.decode()[:2000]
    jobs.run_due()  # the worker checks every row
    return token


def test_wizard_upload_map_preview_import_progress_and_undo(web, manager, _var_dir):
    client = web(manager)
    assert "Upload" in client.get("/imports/contacts/new/").content.decode()
    r = upload(client)
    assert r.status_code == 302
    token = token_of(r)
    assert len(stored_files(_var_dir)) == 1 and "people" not in stored_files(_var_dir)[0]

    page = client.get(f"/imports/wizard/{token}/map/")
    body = page.content.decode()
    assert page.status_code == 200 and "ann@acme.example" in body  # sample values help choosing
    form = mapping_form(page)
    assert form == {"map_0": "first_name", "map_1": "last_name", "map_2": "email", "map_3": ""}

    r = client.post(f"/imports/wizard/{token}/map/", form)
    assert r["Location"] == f"/imports/wizard/{token}/preview/"
    waiting = client.get(r["Location"]).content.decode()  # the dry run is a job too: the page polls
    assert "Waiting for a worker" in waiting and 'hx-trigger="every 1s"' in waiting
    assert "Import</button>" not in waiting
    assert client.post(f"/imports/wizard/{token}/start/").status_code == 302  # not before the check ends
    assert not ImportBatch.objects.filter(dry_run=False).exists()
    jobs.run_due()
    done = client.get(r["Location"], HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Refresh"] == "true"
    preview = client.get(r["Location"]).content.decode()
    assert re.search(r'data-count="create">2<', preview) and re.search(r'data-count="error">1<', preview)
    assert "not-an-email" in preview or "E-mail Address" in preview  # the problem row is listed
    assert not Contact.objects.exists()  # the preview saved nothing

    r = client.post(f"/imports/wizard/{token}/start/")
    batch = ImportBatch.objects.exclude(status="dry_run").get()
    assert r.status_code == 302 and r["Location"] == f"/imports/{batch.pk}/"
    assert batch.status == "queued" and batch.created_by == manager and batch.processed == 0
    assert batch.mapping == form_mapping(form) and batch.stored_file in stored_files(_var_dir)
    status = client.get(f"/imports/{batch.pk}/status/").content.decode()
    assert 'hx-trigger="every 1s"' in status and 'value="0"' in status  # polling, nothing read yet
    assert client.post(f"/imports/wizard/{token}/start/").status_code == 404  # the token is used up

    assert jobs.run_due() == 1
    batch.refresh_from_db()
    assert batch.status == "done" and batch.counts == {
        "create": 2,
        "update": 0,
        "skip": 0,
        "error": 1,
        "companies_created": 0,
        "companies_linked": 0,
    }
    assert background.progress(batch) == {"processed": 3, "position": batch.size, "size": batch.size, "percent": 100}
    assert batch.size == len(CSV.encode())
    assert stored_files(_var_dir) == [] and batch.stored_file == ""  # the upload is removed after the run
    assert sorted(Contact.objects.values_list("email", flat=True)) == ["ann@acme.example", "bob@acme.example"]

    status = client.get(f"/imports/{batch.pk}/status/").content.decode()
    assert "hx-trigger" not in status and 'value="100"' in status  # finished: polling stops
    assert re.search(r'data-count="create">2<', status) and f"/imports/{batch.pk}/errors.csv" in status
    report = b"".join(client.get(f"/imports/{batch.pk}/errors.csv").streaming_content).decode()
    assert report.splitlines()[0].startswith("line,action,problems,First Name") and "not-an-email" in report

    assert client.post(f"/imports/{batch.pk}/undo/").status_code == 302  # without the confirmation: nothing
    assert Contact.objects.count() == 2
    r = client.post(f"/imports/{batch.pk}/undo/", {"confirm": "yes"}, follow=True)
    assert "Import undone: 2 removed, 0 restored." in r.content.decode()
    assert not Contact.objects.exists()
    batch.refresh_from_db()
    assert batch.status == "undone"


def form_mapping(form: dict) -> dict:
    header = ["First Name", "Last Name", "E-mail Address", "Notes"]
    return {header[int(k[4:])]: v for k, v in form.items()}


def test_update_existing_is_what_was_previewed(web, manager):
    old = contact_create(actor=manager, data={"first_name": "Ann", "last_name": "Old", "email": "ann@acme.example"})
    client = web(manager)
    token = through_preview(client, update_existing="on")
    preview = client.get(f"/imports/wizard/{token}/preview/").content.decode()
    assert re.search(r'data-count="update">1<', preview)
    client.post(f"/imports/wizard/{token}/start/")
    jobs.run_due()
    batch = ImportBatch.objects.exclude(status="dry_run").get()
    assert batch.update_existing and batch.counts["update"] == 1
    old.obj.refresh_from_db()
    assert old.obj.last_name == "Lee"


def test_rows_can_be_matched_on_an_id_from_another_system(web, manager):
    from crm.customization.models import CustomField

    CustomField.objects.create(object_type="contact", key="legacy_id", label="Legacy id", field_type="text")
    old = contact_create(actor=manager, data={"first_name": "Old", "custom_fields": {"legacy_id": "L-7"}}).obj
    client = web(manager)
    text = "Legacy id,First Name,E-mail Address\nL-7,Renamed,new@acme.example\nL-8,Fresh,\n"
    token = token_of(upload(client, text))
    page = client.get(f"/imports/wizard/{token}/map/")
    assert 'value="cf_legacy_id">Legacy id (an id from another system)' in page.content.decode()
    post = {**mapping_form(page), "match_on": "cf_legacy_id", "update_existing": "on"}
    assert post["map_0"] == "cf_legacy_id"  # suggested from the custom field's label
    r = client.post(f"/imports/wizard/{token}/map/", post)
    assert r.status_code == 302
    jobs.run_due()
    client.post(f"/imports/wizard/{token}/start/")
    jobs.run_due()
    batch = ImportBatch.objects.exclude(status="dry_run").get()
    assert (batch.match_on, batch.counts["update"], batch.counts["create"]) == ("cf_legacy_id", 1, 1)
    old.refresh_from_db()
    assert old.first_name == "Renamed"


def test_matching_on_an_unmapped_id_is_shown_on_the_mapping_page(web, manager):
    from crm.customization.models import CustomField

    CustomField.objects.create(object_type="contact", key="legacy_id", label="Legacy id", field_type="text")
    client = web(manager)
    token = token_of(upload(client))
    page = client.get(f"/imports/wizard/{token}/map/")
    r = client.post(f"/imports/wizard/{token}/map/", {**mapping_form(page), "match_on": "cf_legacy_id"})
    assert r.status_code == 400
    assert "No column is mapped to cf_legacy_id" in r.content.decode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\x00\x01\x02binary", "This is not a text (CSV) file"),
        (b"a,a\n1,2\n", "The header names"),
    ],
)
def test_a_bad_file_is_refused_at_upload(web, rep_a, _var_dir, content, message):
    r = upload(web(rep_a), content)
    assert r.status_code == 400 and message in r.content.decode()
    assert stored_files(_var_dir) == []  # nothing kept


def test_a_bad_line_among_the_first_rows_is_explained_on_the_way_to_mapping(web, rep_a, _var_dir):
    client = web(rep_a)
    r = upload(client, 'email,last name\na@x.example,"' + "x" * (1024 * 1024 + 10) + '"\n')
    r = client.get(r["Location"], follow=True)
    assert r.redirect_chain[-1][0] == "/imports/contacts/new/"
    assert "a cell is larger than 1024 KB" in r.content.decode()
    assert stored_files(_var_dir) == []


def test_upload_without_a_file_explains(web, rep_a):
    r = web(rep_a).post("/imports/contacts/new/", {})
    assert r.status_code == 400 and "Choose a CSV or XLSX file" in r.content.decode()


def test_a_bad_mapping_is_shown_on_the_mapping_page(web, rep_a):
    client = web(rep_a)
    token = token_of(upload(client))
    r = client.post(f"/imports/wizard/{token}/map/", {"map_0": "email", "map_1": "", "map_2": "email", "map_3": ""})
    assert r.status_code == 400
    assert "email is already fed by column &#x27;First Name&#x27;" in r.content.decode()
    r = client.post(f"/imports/wizard/{token}/map/", {"map_0": "", "map_1": "", "map_2": "", "map_3": ""})
    assert r.status_code == 400 and "No column matches a contact field" in r.content.decode()
    r = client.post(f"/imports/wizard/{token}/map/", {"map_0": "password", "map_2": "email"})
    assert r.status_code == 400 and "Unknown field &#x27;password&#x27;" in r.content.decode()
    assert not ImportBatch.objects.exists() and not Job.objects.exists()
    assert client.post(f"/imports/wizard/{token}/start/", follow=True).redirect_chain[-1][0].endswith("/map/")


def test_header_names_are_escaped(web, rep_a):
    client = web(rep_a)
    token = token_of(upload(client, "<script>x</script>,email\nhi,a@b.example\n"))
    body = client.get(f"/imports/wizard/{token}/map/").content.decode()
    assert "<script>x</script>" not in body and "&lt;script&gt;x&lt;/script&gt;" in body


def test_another_users_token_or_batch_is_not_found(web, rep_a, rep_b, admin_user):
    owner = web(rep_a)
    token = through_preview(owner)
    stranger = web(rep_b)
    for path in (f"/imports/wizard/{token}/map/", f"/imports/wizard/{token}/preview/"):
        assert stranger.get(path).status_code == 404
    assert stranger.post(f"/imports/wizard/{token}/start/").status_code == 404
    owner.post(f"/imports/wizard/{token}/start/")
    batch = ImportBatch.objects.exclude(status="dry_run").get()
    for path in (f"/imports/{batch.pk}/", f"/imports/{batch.pk}/status/", f"/imports/{batch.pk}/errors.csv"):
        assert stranger.get(path).status_code == 404
        assert web(admin_user).get(path).status_code == 200
    assert stranger.post(f"/imports/{batch.pk}/undo/", {"confirm": "yes"}).status_code == 404
    assert "people.csv" not in stranger.get("/imports/").content.decode()
    assert "people.csv" in owner.get("/imports/").content.decode()
    assert "people.csv" in web(admin_user).get("/imports/").content.decode()


def test_users_who_may_not_add_cannot_import(web, readonly, rep_a):
    client = web(readonly)
    assert client.get("/imports/contacts/new/").status_code == 403
    assert upload(client).status_code == 403
    assert ">Imports</a>" not in client.get("/").content.decode()
    assert 'href="/imports/contacts/new/"' not in client.get("/contacts/").content.decode()
    rep = web(rep_a)
    assert ">Imports</a>" in rep.get("/").content.decode()
    assert 'href="/imports/contacts/new/"' in rep.get("/contacts/").content.decode()
    assert "/imports/tasks/new/" not in rep.get("/tasks/").content.decode()  # tasks are not imported


def test_unknown_import_type_is_404(web, admin_user):
    assert web(admin_user).get("/imports/tasks/new/").status_code == 404
    assert web(admin_user).get("/imports/nothing/new/").status_code == 404


def test_other_importable_types_use_the_same_wizard(web, manager):
    client = web(manager)
    assert 'href="/imports/leads/new/"' in client.get("/leads/").content.decode()
    r = upload(client, "First name,Last name,Email,Company\nGrace,Hopper,grace@navy.example,Navy\n", "leads")
    token = token_of(r)
    page = client.get(f"/imports/wizard/{token}/map/")
    client.post(f"/imports/wizard/{token}/map/", mapping_form(page))
    jobs.run_due()  # the check
    client.post(f"/imports/wizard/{token}/start/")
    jobs.run_due()  # the import
    batch = ImportBatch.objects.exclude(status="dry_run").get()
    assert batch.object_type == "leads" and batch.status == "done" and batch.counts["create"] == 1


def test_a_mapping_saved_in_the_wizard_can_be_applied_to_the_next_file(web, rep_a):
    client = web(rep_a)
    token = token_of(upload(client, "Vorname,Epost\nAnn,ann@x.example\n"))
    form = {"map_0": "first_name", "map_1": "email", "save_as": "Fair list"}
    assert client.post(f"/imports/wizard/{token}/map/", form).status_code == 302
    saved = ImportMapping.objects.get(name="Fair list")
    assert saved.object_type == "contacts" and saved.mapping == {"Vorname": "first_name", "Epost": "email"}

    token = token_of(upload(client, "Epost,Vorname,Andere\nbob@x.example,Bob,z\n"))
    page = client.get(f"/imports/wizard/{token}/map/")
    assert mapping_form(page) == {"map_0": "", "map_1": "", "map_2": ""}  # nothing recognised by name
    page = client.get(f"/imports/wizard/{token}/map/", {"saved": saved.pk})
    assert mapping_form(page) == {"map_0": "email", "map_1": "first_name", "map_2": ""}


def test_api_background_import_is_queued_then_shows_progress(api, rep_a):
    client = api(rep_a)
    r = client.client.post(
        "/api/v1/import/contacts",
        {"file": SimpleUploadedFile("p.csv", CSV.encode()), "background": "true"},
        headers=client.headers,
    )
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["status"] == "queued" and body["percent"] == 0 and body["processed"] == 0
    assert body["size"] == len(CSV.encode())
    assert jobs.run_due() == 1
    done = client.get(f"/import/batches/{body['id']}").json()
    assert done["status"] == "done" and done["percent"] == 100 and done["processed"] == 3
    assert done["position"] == done["size"] and done["counts"]["create"] == 2


def test_api_background_refuses_a_bad_mapping_or_permission_at_once(api, rep_a, readonly, _var_dir):
    client = api(rep_a)
    post = {"file": SimpleUploadedFile("p.csv", CSV.encode()), "background": "true", "mapping": '{"Nope": "email"}'}
    r = client.client.post("/api/v1/import/contacts", post, headers=client.headers)
    assert r.status_code == 422 and r.json()["error"]["fields"] == {"mapping.Nope": "No such column in the file."}
    viewer = api(readonly)
    r = viewer.client.post(
        "/api/v1/import/contacts",
        {"file": SimpleUploadedFile("p.csv", CSV.encode()), "background": "true"},
        headers=viewer.headers,
    )
    assert r.status_code == 403
    empty = {"file": SimpleUploadedFile("p.csv", b""), "background": "true"}
    r = client.client.post("/api/v1/import/contacts", empty, headers=client.headers)
    assert r.status_code == 400 and r.json()["error"]["message"] == "The file is empty."
    assert not ImportBatch.objects.exists() and not Job.objects.exists() and stored_files(_var_dir) == []


def test_api_dry_run_in_the_background(api, rep_a):
    client = api(rep_a)
    both = {"file": SimpleUploadedFile("p.csv", CSV.encode()), "background": "true", "dry_run": "true"}
    r = client.client.post("/api/v1/import/contacts", both, headers=client.headers)
    assert r.status_code == 202 and r.json()["status"] == "queued"
    jobs.run_due()
    checked = client.get(f"/import/batches/{r.json()['id']}").json()
    assert (checked["status"], checked["counts"]["create"], checked["percent"]) == ("dry_run", 2, 100)
    assert not Contact.objects.exists()


def queued(user, text: str, file_name: str):
    """A contacts file queued as the web app queues it (suggested mapping, new records only)."""
    return background.queue(
        io.BytesIO(text.encode()),
        actor=user,
        object_type="contacts",
        file_name=file_name,
        columns=None,
        update_existing=False,
    )


def test_progress_is_saved_while_the_import_runs(rep_a, monkeypatch):
    """Another request polling the batch sees rows and bytes read grow before the run ends."""
    from crm.dataio.importers.contacts import ContactImporter

    lines = ["email,last name"] + [f"bad-{i},Row{i}" for i in range(5000)]  # invalid emails: cheap rows
    batch = queued(rep_a, "\n".join(lines), "big.csv")
    seen = []
    outcomes = ContactImporter.outcomes

    def watching(self, chunk):  # called once per chunk of rows, before the chunk is written
        seen.append(ImportBatch.objects.values_list("status", "processed", "position").get(pk=batch.pk))
        return outcomes(self, chunk)

    monkeypatch.setattr(ContactImporter, "outcomes", watching)
    jobs.run_due()
    batch.refresh_from_db()
    assert batch.status == "done" and batch.counts["error"] == 5000
    assert len(seen) >= 3 and {status for status, _, _ in seen} == {"running"}
    processed = [p for _, p, _ in seen]
    positions = [p for _, _, p in seen]
    assert processed[0] == 0 and processed == sorted(set(processed)) and processed[-1] < 5000  # strictly growing
    assert positions[0] == 0 and positions == sorted(positions) and 0 < positions[-1] < batch.size


@pytest.mark.parametrize("text", [CSV, "email,last name\n" + 'b@x.example,"' + "x" * (1024 * 1024 + 10) + '"\n'])
def test_a_batch_is_finished_only_once_its_upload_is_removed(rep_a, _var_dir, text):
    """Whoever polls a batch and sees it done or failed finds no stored file: the removal comes first."""
    from django.db.models.signals import post_save

    batch, seen = queued(rep_a, text, "p.csv"), []

    def saved(sender, instance, **kwargs):
        if instance.pk == batch.pk and instance.status in ("done", "failed"):
            row = ImportBatch.objects.values_list("status", "stored_file").get(pk=batch.pk)
            seen.append((*row, (_var_dir / "imports" / batch.stored_file).exists()))

    post_save.connect(saved, sender=ImportBatch)
    try:
        jobs.run_due()
    finally:
        post_save.disconnect(saved, sender=ImportBatch)
    assert seen and all(stored == "" and not exists for _, stored, exists in seen), seen
    finished = ImportBatch.objects.get(pk=batch.pk)
    assert finished.status in ("done", "failed") and finished.stored_file == ""
    if finished.status == "done":
        assert (finished.encoding, finished.delimiter) == ("utf-8", ",")  # what the run found is kept


def test_a_file_problem_found_during_the_run_fails_the_batch(rep_a, _var_dir):
    text = "email,last name\na@x.example,A\n" + 'b@x.example,"' + "x" * (1024 * 1024 + 10) + '"\n'
    batch = queued(rep_a, text, "huge-cell.csv")
    jobs.run_due()
    batch.refresh_from_db()
    job = Job.objects.get()
    assert batch.status == "failed" and "a cell is larger than" in batch.message
    assert job.status == "failed" and job.attempts == 1  # a file problem is not retried
    assert stored_files(_var_dir) == []


def test_a_long_import_keeps_its_job_lease_alive(rep_a, monkeypatch):
    from crm.dataio.importers.contacts import ContactImporter

    lines = ["email,last name"] + [f"bad-{i},Row{i}" for i in range(2500)]
    queued(rep_a, "\n".join(lines), "big.csv")
    job, leases = Job.objects.get(), []
    outcomes = ContactImporter.outcomes

    def watching(self, chunk):
        leases.append(Job.objects.values_list("lease_until", flat=True).get(pk=job.pk))
        Job.objects.filter(pk=job.pk).update(lease_until=timezone.now() - dt.timedelta(minutes=1))  # as if stale
        return outcomes(self, chunk)

    monkeypatch.setattr(ContactImporter, "outcomes", watching)
    jobs.run_due()
    assert len(leases) == 3 and all(lease > timezone.now() for lease in leases[1:])  # renewed after each chunk
    assert Job.objects.get().status == "done"


def test_an_import_whose_worker_died_is_run_again_from_the_top(rep_a, _var_dir):
    batch = queued(rep_a, CSV, "p.csv")
    # The first attempt's worker died after starting: the batch says running; the scheduler made the job pending.
    ImportBatch.objects.filter(pk=batch.pk).update(status="running")
    Job.objects.update(attempts=1)
    assert jobs.run_due() == 1
    batch.refresh_from_db()
    assert batch.status == "done" and batch.counts["create"] == 2 and Contact.objects.count() == 2
    assert Job.objects.get().attempts == 2 and stored_files(_var_dir) == []


def test_an_import_whose_user_lost_the_permission_fails_with_the_reason(rep_a, _var_dir):
    batch = queued(rep_a, CSV, "p.csv")
    rep_a.profile.role = builtin_role("read-only")
    rep_a.profile.save()
    jobs.run_due()
    batch.refresh_from_db()
    assert batch.status == "failed" and batch.message == "You may not add contacts."
    assert not Contact.objects.exists() and stored_files(_var_dir) == []


def test_stored_names_cannot_reach_outside_the_folder():
    for name in ("../secret_key", "/etc/passwd", "", ".hidden"):
        with pytest.raises(BadRequest, match="upload the file again"):
            background.path_of(name)
