"""Fixed word lists the demo draws from, so the records read like a real sales team's data."""

from crm.records.models.companies import CompanySize

INDUSTRIES = (
    "Software",
    "Manufacturing",
    "Healthcare",
    "Financial services",
    "Retail",
    "Logistics",
    "Education",
    "Energy",
    "Telecommunications",
    "Construction",
    "Media",
    "Hospitality",
    "Professional services",
    "Biotech",
    "Automotive",
    "Food & beverage",
    "Real estate",
)

# (size, weight, annual revenue range in thousands): more small companies than large ones.
SIZES = (
    (CompanySize.S1, 14, (200, 2_000)),
    (CompanySize.S11, 24, (1_000, 10_000)),
    (CompanySize.S51, 22, (5_000, 40_000)),
    (CompanySize.S201, 14, (20_000, 120_000)),
    (CompanySize.S501, 10, (60_000, 300_000)),
    (CompanySize.S1001, 9, (200_000, 1_500_000)),
    (CompanySize.S5001, 7, (1_000_000, 20_000_000)),
)

TITLES = (
    "CEO",
    "CFO",
    "CTO",
    "COO",
    "VP Sales",
    "VP Marketing",
    "VP Engineering",
    "Head of Procurement",
    "Head of IT",
    "IT Manager",
    "Operations Manager",
    "Finance Director",
    "Marketing Manager",
    "Sales Manager",
    "Product Manager",
    "Office Manager",
    "Purchasing Manager",
    "Software Engineer",
    "Data Analyst",
    "HR Director",
    "Customer Success Manager",
    "Project Manager",
    "Account Manager",
    "Business Analyst",
)

SOURCES = ("Website", "Referral", "Trade show", "Webinar", "Outbound", "Partner", "LinkedIn", "Content download")

CONSENT_SOURCES = ("Website form", "Webinar sign-up", "Trade show badge scan", "Newsletter sign-up")

# Fictional mail providers (reserved .example names): a demo must never mail a real person.
PERSONAL_MAIL = ("mailbox.example", "inbox.example", "postbox.example")

# Words left out of a company's web domain ("Watkins and Sons GmbH" -> watkins.example).
LEGAL_WORDS = set(
    "and und et y e of the sons son group inc llc ltd plc gmbh kg ag co sa sl slne sas sarl bv nv ab pty "
    "royal ii der van de la le ltda me s ev coop scoop sas spa".split()
)

TAGS = (
    ("VIP", "#d97706"),
    ("Partner", "#2563eb"),
    ("Churn risk", "#dc2626"),
    ("Upsell", "#16a34a"),
    ("Newsletter", "#7c3aed"),
    ("Trade show", "#0891b2"),
    ("Enterprise", "#4b5563"),
    ("Startup", "#db2777"),
)

PRODUCTS = (
    "Platform licence",
    "Analytics add-on",
    "Onboarding package",
    "Premium support",
    "Enterprise rollout",
    "Pilot",
    "Seat expansion",
    "Integration services",
    "Training programme",
)

LOST_REASONS = (
    "Went with a competitor",
    "No budget this year",
    "No decision made",
    "Price too high",
    "Missing feature",
    "Champion left the company",
    "Project cancelled",
)

CHURN_REASONS = ("Budget cuts", "Moved to a competitor", "Company acquired", "Low adoption")

DISQUALIFIED_REASONS = (
    "No budget",
    "Not the decision maker",
    "Student or job seeker",
    "Works for a competitor",
    "Outside our market",
    "Unresponsive after five attempts",
)

CALL_OUTCOMES = (
    ("Connected", 40),
    ("Left voicemail", 20),
    ("No answer", 20),
    ("Meeting booked", 12),
    ("Call back later", 6),
    ("Wrong number", 2),
)

NOTE_SUBJECTS = (
    "Notes from discovery",
    "Budget and timeline",
    "Org chart update",
    "Competitive situation",
    "Feedback on the proposal",
    "Account review",
)
NOTE_BODIES = (
    "{first} confirmed the budget is approved for this quarter. Procurement needs two weeks.",
    "They are also evaluating two other vendors; security review is the main hurdle.",
    "{first} will introduce us to the head of IT. Decision expected after the board meeting.",
    "Current tool is end-of-life next year; they want a migration plan from us.",
    "Asked for references in {industry}. Sent two case studies.",
    "Pricing is fine, legal wants changes to the liability clause.",
)
MEETING_SUBJECTS = ("Discovery call", "Product demo", "Proposal walkthrough", "Quarterly business review", "Kick-off")
EMAIL_SUBJECTS = (
    "Following up on our call",
    "Proposal attached",
    "Re: pricing question",
    "Next steps",
    "Case studies you asked for",
    "Re: contract redlines",
    "Meeting recap",
)
EMAIL_BODIES = (
    "Hi {first},\n\nThanks for your time today. As promised, here is a short summary and the next steps.",
    "Hi {first},\n\nAttached is the updated proposal. Happy to walk you through it this week.",
    "Hello {first},\n\nJust checking whether you had a chance to review the documents I sent.",
)

TASK_TITLES = (  # about a person
    "Call {first} back",
    "Follow up with {name}",
    "Book a demo with {first}",
    "Send {first} the case studies",
)
COMPANY_TASK_TITLES = (
    "Send proposal to {company}",
    "Prepare QBR for {company}",
    "Send contract to {company}",
    "Check in on {company}'s renewal",
    "Update the stakeholder map for {company}",
)
