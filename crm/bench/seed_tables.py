"""The benchmark seed's rows, table by table: companies, contacts, leads, deals (with stage history and
contacts), activities and tasks, each written in chunks by ``write(table, rows)``."""

from crm.bench.seed_world import (
    COMPANY_SUFFIXES,
    DAY,
    FREE_DOMAINS,
    KINDS,
    LIFECYCLE,
    LOST_REASONS,
    REGIONS,
    SEGMENTS,
    SIZES,
    SOURCES,
    STAGES,
    YEAR,
    World,
    change_row,
    chunks_of,
    day,
    name_row,
    phone_tokens,
    pickers,
    search_row,
    ts,
)


def companies(world: World, write) -> None:
    rng, p = world.rng, world.pools
    pick, _ = pickers(world.rng)
    for ids in chunks_of(world.scale.companies):
        owners = world.owner_ids(len(ids))
        rows, domains, search, names, changes = [], [], [], [], []
        for pk, owner in zip(ids, owners, strict=True):
            w1, w2, suffix = pick(p.company_words), pick(p.company_words), pick(COMPANY_SUFFIXES)
            name = f"{w1} {w2} {suffix}"
            domain = f"{p.slugs[w1]}{p.slugs[w2]}{pk}.com"
            city, region, postal = pick(p.cities)
            phone = world.phone() if rng.random() < 0.5 else ""
            created = world.past()
            at = ts(created)
            rows.append((
                pk, 1, at, ts(created + rng.random() * (world.now - created)), "{}", pick(p.streets), city,
                region, postal, "United States", name, domain, pick(p.industries), pick(SIZES),
                f"{rng.randrange(100, 500_000) * 1000}.00", phone, f"https://{domain}", pick(LIFECYCLE),
                owner, None,
            ))  # fmt: skip
            domains.append((pk, domain, pk))
            name_key = f"{p.folded[w1]} {p.folded[w2]} {suffix.lower()}"
            names.append(name_row("company", pk, name_key))
            text = f"{name_key} {domain.replace('.', ' ')}"
            search.append(search_row("company", pk, f"{text} {phone_tokens(phone)}" if phone else text))
            changes.append(change_row(world, "company", pk, name, owner, at))
            world.company_domain.append(domain)
            world.company_name.append(name)
        write("records_company", rows)
        write("records_companydomain", domains)
        write(world.search_table, search)
        write("search_name", names)
        write("audit_objectchange", changes)


def contacts(world: World, write) -> None:
    rng, p, n_companies = world.rng, world.pools, world.scale.companies
    pick, upto = pickers(world.rng)
    email_id = phone_id = tag_row = 0
    for ids in chunks_of(world.scale.contacts):
        owners = world.owner_ids(len(ids))
        rows, emails, phones, tags, search, names, changes = [], [], [], [], [], [], []
        for pk, owner in zip(ids, owners, strict=True):
            first, last = pick(p.first_names), pick(p.last_names)
            name = f"{first} {last}"
            company = upto(n_companies) if rng.random() < 0.8 else 0
            domain = world.company_domain[company - 1] if company else pick(FREE_DOMAINS)
            email = f"{p.slugs[first]}.{p.slugs[last]}{pk}@{domain}"
            title = pick(p.titles) if rng.random() < 0.7 else ""
            phone = world.phone() if rng.random() < 0.7 else ""
            city, region, postal = pick(p.cities)
            created = world.past()
            at = ts(created)
            opt_in = rng.random() < 0.4
            custom = f'{{"region": "{pick(REGIONS)}", "nps": {rng.randrange(0, 11)}}}' if pk % 2 else "{}"
            rows.append((
                pk, 1, at, ts(created + rng.random() * (world.now - created)), custom, pick(p.streets), city,
                region, postal, "United States", first, last, name, title, email, phone, pick(LIFECYCLE),
                pick(SOURCES), int(opt_in), at if opt_in else None, "form" if opt_in else "", company or None,
                owner,
            ))  # fmt: skip
            world.contact_owner.append(owner)
            world.contact_company.append(company)
            email_id += 1
            emails.append((email_id, email, "work", 1, pk))
            texts = [p.folded[first], p.folded[last]]
            names.append(name_row("contact", pk, f"{texts[0]} {texts[1]}"))
            if title:
                texts.append(p.folded[title])
            texts.append(email.replace(".", " ").replace("@", " "))
            if pk % 5 == 0:
                email_id += 1
                home = f"{p.slugs[first]}{pk}@example.net"
                emails.append((email_id, home, "home", 0, pk))
                texts.append(home.replace(".", " ").replace("@", " "))
            if phone:
                phone_id += 1
                phones.append((phone_id, phone, "mobile", 1, pk))
                texts.append(phone_tokens(phone))
            if rng.random() < 0.3:
                for tag in rng.sample(world.tag_ids, upto(2)):
                    tag_row += 1
                    tags.append((tag_row, pk, tag))
            search.append(search_row("contact", pk, " ".join(texts)))
            changes.append(change_row(world, "contact", pk, name, owner, at))
        write("records_contact", rows)
        write("records_contactemail", emails)
        write("records_contactphone", phones)
        write("records_contact_tags", tags)
        write(world.search_table, search)
        write("search_name", names)
        write("audit_objectchange", changes)


def leads(world: World, write) -> None:
    rng, p = world.rng, world.pools
    pick, _ = pickers(world.rng)
    statuses = ["new", "new", "working", "nurturing", "qualified", "disqualified"]
    for ids in chunks_of(world.scale.leads):
        owners = world.owner_ids(len(ids))
        rows, search, names = [], [], []
        for pk, owner in zip(ids, owners, strict=True):
            first, last = pick(p.first_names), pick(p.last_names)
            w1, suffix = pick(p.company_words), pick(COMPANY_SUFFIXES)
            company_name = f"{w1} {suffix}"
            email = f"{p.slugs[first]}{pk}@{p.slugs[w1]}.com"
            phone = world.phone() if rng.random() < 0.5 else ""
            created = world.past(YEAR)
            rows.append((
                pk, 1, ts(created), ts(created), "{}", first, last, f"{first} {last}", company_name,
                pick(p.titles), email, phone, "", pick(statuses), "", pick(SOURCES),
                rng.randrange(0, 100), None, None, None, None, owner,
            ))  # fmt: skip
            name_key = f"{p.folded[first]} {p.folded[last]}"
            names.append(name_row("lead", pk, name_key))
            text = f"{name_key} {p.folded[w1]} {suffix.lower()} "
            text += email.replace(".", " ").replace("@", " ")
            search.append(search_row("lead", pk, f"{text} {phone_tokens(phone)}" if phone else text))
        write("records_lead", rows)
        write(world.search_table, search)
        write("search_name", names)


def _deal_plan(world: World, pk: int) -> tuple[dict, str, list]:
    """(pipeline, status, stages passed through in order) for deal ``pk``."""
    rng = world.rng
    _, upto = pickers(world.rng)
    if pk <= world.scale.board_open_deals:
        pipeline = world.pipelines["Board"]
        return pipeline, "open", pipeline["open"][: upto(len(STAGES))]
    pipeline = world.pipelines["Sales"]
    r = rng.random()
    passed = pipeline["open"][: min(upto(len(STAGES)), upto(len(STAGES)))]
    if r < 0.55:
        return pipeline, "open", passed
    if r < 0.8:
        return pipeline, "won", [*passed, pipeline["won"]]
    return pipeline, "lost", [*passed, pipeline["lost"]]


def deals(world: World, write) -> None:
    rng, p, n_contacts = world.rng, world.pools, world.scale.contacts
    pick, upto = pickers(world.rng)
    history_id = 0
    for ids in chunks_of(world.scale.deals):
        owners = world.owner_ids(len(ids))
        rows, links, history, search, names, changes = [], [], [], [], [], []
        for pk, owner in zip(ids, owners, strict=True):
            pipeline, status, passed = _deal_plan(world, pk)
            phrase, word = pick(p.phrases), pick(p.company_words)
            name = f"{phrase} for {word}"
            contact = upto(n_contacts)
            company = world.contact_company[contact - 1] or None
            created = world.past(2 * YEAR)
            times = sorted(created + rng.random() * (world.now - created) for _ in passed)
            times[0] = created
            closed = ts(times[-1]) if status != "open" else None
            if status == "open":
                close_date = day(world.now + (upto(426) - 61) * DAY)
            else:
                close_date = day(times[-1])
            stage = passed[-1]
            at = ts(created)
            custom = f'{{"segment": "{pick(SEGMENTS)}"}}' if pk % 2 else "{}"
            rows.append((
                pk, 1, at, ts(max(times[-1], created)), custom, name, f"{rng.randrange(1, 200) * 500}.00", "USD",
                status, close_date, stage.probability, 0, pick(LOST_REASONS) if status == "lost" else "",
                closed, ts(times[-1]), company, owner, pipeline["id"], stage.pk,
            ))  # fmt: skip
            links.append((pk, "decision_maker", contact, pk))
            previous = None
            for when, s in zip(times, passed, strict=True):
                history_id += 1
                history.append((history_id, ts(when), owner, pk, previous.pk if previous else None, s.pk))
                previous = s
            name_key = f"{p.folded[phrase]} for {p.folded[word]}"
            search.append(search_row("deal", pk, name_key))
            names.append(name_row("deal", pk, name_key))
            changes.append(change_row(world, "deal", pk, name, owner, at))
        write("records_deal", rows)
        write("records_dealcontact", links)
        write("records_stagechange", history)
        write(world.search_table, search)
        write("search_name", names)
        write("audit_objectchange", changes)


def _links(pk: int, *extra, **targets) -> list[tuple]:
    """A row's generic links (``extra``: the columns a link copies from its row, an activity's time);
    link ids are the row's id times four plus the type's slot (unique)."""
    slots = ("company", "contact", "deal", "lead")
    return [(pk * 4 + slots.index(t), t, rid, pk, *extra) for t, rid in targets.items() if rid]


def activities(world: World, write) -> None:
    rng, p = world.rng, world.pools
    pick, upto = pickers(world.rng)
    n_contacts, n_deals = world.scale.contacts, world.scale.deals
    outcomes = ["connected", "left voicemail", "no answer", "busy"]
    for ids in chunks_of(world.scale.activities):
        rows, links = [], []
        for pk in ids:
            # Skewed: low contact ids get far more activities (contact 1 gets thousands).
            contact = int(n_contacts * rng.random() ** 2.5) + 1
            kind = pick(KINDS)
            occurred = world.past()
            at = ts(occurred)
            company = world.contact_company[contact - 1] or None
            rows.append((
                pk, 1, at, at, "{}", kind, pick(p.phrases), pick(p.sentences), at,
                "outbound" if kind in ("call", "email") else "", pick(outcomes) if kind == "call" else "",
                rng.randrange(5, 60) if kind in ("call", "meeting") else None, world.contact_owner[contact - 1],
            ))  # fmt: skip
            deal = upto(n_deals) if rng.random() < 0.1 else None
            links += _links(pk, at, company=company, contact=contact, deal=deal)
        write("records_activity", rows)
        write("records_activitylink", links)


def tasks(world: World, write) -> None:
    p, n_contacts = world.pools, world.scale.contacts
    pick, upto = pickers(world.rng)
    statuses = ["open", "open", "in_progress", "done", "done", "cancelled"]
    priorities = ["low", "normal", "normal", "high", "urgent"]
    for ids in chunks_of(world.scale.tasks):
        rows, links = [], []
        for pk in ids:
            contact = upto(n_contacts)
            owner = world.contact_owner[contact - 1]
            created = world.past(YEAR)
            due = created + upto(60) * DAY
            status = pick(statuses)
            rows.append((
                pk, 1, ts(created), ts(created), "{}", f"Follow up: {pick(p.phrases)}", "", ts(due),
                ts(due - 3600) if status == "open" else None, status, pick(priorities),
                ts(due) if status == "done" else None, owner, owner,
            ))  # fmt: skip
            links += _links(pk, company=world.contact_company[contact - 1] or None, contact=contact)
        write("records_task", rows)
        write("records_tasklink", links)
