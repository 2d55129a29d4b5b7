"""The seeded content templates, version 1 of each key (ops edit them in admin, which makes new versions). The
data is written out here, not imported, so this migration keeps doing what it did whatever the app becomes."""

from django.db import migrations
from django.utils import timezone

SYSTEM = (
    "You are a senior writer working for a creator or a small business. Write in Markdown: one top-level "
    "heading (# Title) first, then the text. Write only the deliverable, with no preamble and no notes about "
    "how you wrote it. Where a fact is not given, write around it or leave a clearly marked placeholder in "
    "[square brackets]; never invent figures, names, quotes or results."
)

TONES = [["friendly", "Friendly"], ["professional", "Professional"], ["playful", "Playful"], ["bold", "Bold"],
         ["inspiring", "Inspiring"], ["authoritative", "Authoritative"]]

TEMPLATES = [
    {
        "key": "marketing-copy", "name": "Marketing copy", "category": "marketing", "max_tokens": 3000,
        "description": "Blog posts, social posts, emails, ads and landing pages on a topic, for an audience, "
                       "in a tone.",
        "fields": [
            {"name": "topic", "label": "Topic", "type": "text", "max_length": 300,
             "help": "What the copy is about, e.g. the launch of a paid community for home bakers."},
            {"name": "content_type", "label": "Type", "type": "choice",
             "choices": [["blog_post", "Blog post"], ["social_post", "Social post"], ["email", "Email"],
                         ["ad", "Ad"], ["landing_page", "Landing page"]]},
            {"name": "tone", "label": "Tone", "type": "choice", "choices": TONES},
            {"name": "audience", "label": "Audience", "type": "text", "max_length": 300,
             "help": "Who reads it, e.g. busy parents who bake at weekends."},
            {"name": "key_points", "label": "Key points", "type": "textarea", "required": False,
             "max_length": 3000, "help": "Facts, offers, dates or links the copy must carry, one per line."},
            {"name": "call_to_action", "label": "Call to action", "type": "text", "required": False,
             "max_length": 200, "help": "What the reader should do, e.g. join the waitlist."},
        ],
        "prompt": (
            "Piece: {content_type}\nTopic: {topic}\nAudience: {audience}\nTone: {tone}\n"
            "Call to action: {call_to_action}\nKey points to include:\n{key_points}\n\n"
            "Fit the format: a blog post of 700 to 1,000 words with subheadings; a social post under 280 "
            "characters plus three hashtags, then two alternative versions; an email with a subject line, a "
            "preview line and a short body; an ad with three headline and description variants; a landing page "
            "with a hero headline, subheadline, benefits, social proof placeholders, FAQ and the call to action."
        ),
    },
    {
        "key": "product-description", "name": "Product description", "category": "product", "max_tokens": 2000,
        "description": "A product page description from its name and features.",
        "fields": [
            {"name": "product_name", "label": "Product name", "type": "text", "max_length": 200},
            {"name": "features", "label": "Features and specifications", "type": "textarea", "max_length": 4000,
             "help": "One per line: what it is, what it does, sizes, materials, what is included."},
            {"name": "audience", "label": "Who buys it", "type": "text", "required": False, "max_length": 300},
            {"name": "tone", "label": "Tone", "type": "choice", "choices": TONES},
            {"name": "length", "label": "Length", "type": "choice",
             "choices": [["short", "Short (about 80 words)"], ["medium", "Medium (about 200 words)"],
                         ["long", "Long (about 400 words)"]]},
        ],
        "prompt": (
            "Write a product description for {product_name}.\n\nFeatures and specifications:\n{features}\n\n"
            "Buyers: {audience}\nTone: {tone}\nLength: {length}\n\n"
            "Lead with the benefit, not the feature; then a bullet list of key features; end with a one-line "
            "reason to buy now. Use only the facts given."
        ),
    },
    {
        "key": "course-material", "name": "Course material", "category": "course", "max_tokens": 4096,
        "description": "A course outline, or one lesson, for a topic and a level.",
        "fields": [
            {"name": "course_topic", "label": "Course topic", "type": "text", "max_length": 300},
            {"name": "material", "label": "Material", "type": "choice",
             "choices": [["outline", "Course outline"], ["lesson", "One lesson"]]},
            {"name": "level", "label": "Level", "type": "choice",
             "choices": [["beginner", "Beginner"], ["intermediate", "Intermediate"], ["advanced", "Advanced"]]},
            {"name": "learners", "label": "Learners", "type": "text", "required": False, "max_length": 300,
             "help": "Who takes the course and what they want from it."},
            {"name": "lesson_focus", "label": "Lesson focus", "type": "textarea", "required": False,
             "max_length": 2000,
             "help": "For a lesson: what it covers. For an outline: constraints (length, modules)."},
        ],
        "prompt": (
            "Write a {material} for a {level} course on: {course_topic}\n\nLearners: {learners}\n"
            "Focus and constraints: {lesson_focus}\n\n"
            "For a course outline: modules with their lessons, each lesson with its learning objective, an "
            "estimated duration and a practical exercise; end with the final project. For one lesson: learning "
            "objectives, the explanation in short sections with examples, a worked exercise, a five-question "
            "quiz with answers, and a summary."
        ),
    },
    {
        "key": "technical-documentation", "name": "Technical documentation", "category": "documentation",
        "max_tokens": 4096,
        "description": "Markdown documentation for a project, from its name and features, with examples.",
        "fields": [
            {"name": "project_name", "label": "Project name", "type": "text", "max_length": 200},
            {"name": "features", "label": "Features", "type": "textarea", "max_length": 6000,
             "help": "What the project does, its commands, endpoints or functions, one per line."},
            {"name": "audience", "label": "Readers", "type": "choice",
             "choices": [["users", "End users"], ["developers", "Developers"], ["operators", "Operators"]]},
            {"name": "stack", "label": "Language or stack", "type": "text", "required": False, "max_length": 200,
             "help": "e.g. Python 3.12 and Django, or a REST API."},
        ],
        "prompt": (
            "Write the documentation of {project_name} for {audience}.\n\nStack: {stack}\nFeatures:\n{features}\n\n"
            "Sections: overview, installation or access, quick start, one section per feature with a usage "
            "example in a fenced code block (with its language), configuration, troubleshooting, and FAQ. "
            "Examples must only use names given above; mark anything assumed with [placeholder]."
        ),
    },
    {
        "key": "investor-materials", "name": "Investor materials", "category": "investor", "max_tokens": 4096,
        "description": "An executive summary, a pitch-deck outline or a financial projections narrative from "
                       "your company data.",
        "fields": [
            {"name": "company_name", "label": "Company name", "type": "text", "max_length": 200},
            {"name": "document", "label": "Document", "type": "choice",
             "choices": [["executive_summary", "Executive summary"],
                         ["pitch_deck", "Pitch-deck outline (slide by slide)"],
                         ["financial_narrative", "Financial projections narrative"]]},
            {"name": "company_data", "label": "Company data", "type": "textarea", "max_length": 8000,
             "help": "Problem, solution, market, traction, business model, team, competition."},
            {"name": "funding_ask", "label": "Funding ask", "type": "text", "required": False, "max_length": 300,
             "help": "e.g. $750k pre-seed for 18 months of runway."},
            {"name": "projections", "label": "Financial projections", "type": "csv", "required": False,
             "help": "Optional: a table such as year, revenue, costs, customers (pasted or a CSV file)."},
        ],
        "prompt": (
            "Write the {document} for {company_name}.\n\nCompany data:\n{company_data}\n\n"
            "Funding ask: {funding_ask}\nFinancial projections (CSV):\n{projections}\n\n"
            "An executive summary fits one page: problem, solution, market, traction, business model, team, "
            "the ask and the use of funds. A pitch-deck outline goes slide by slide (title, problem, solution, "
            "market size, product, traction, business model, competition, go-to-market, team, financials, the "
            "ask), each slide with its headline, three bullet points and a speaker note. A financial "
            "narrative explains the projections year by year: the drivers, the assumptions and the risks. "
            "Use the figures given, and only those."
        ),
    },
    {
        "key": "report", "name": "Report", "category": "report", "max_tokens": 4096,
        "description": "A summary and findings from pasted data or a CSV file.",
        "fields": [
            {"name": "report_title", "label": "Report title", "type": "text", "max_length": 200},
            {"name": "data", "label": "Data", "type": "csv",
             "help": "Paste a table (comma, semicolon or tab separated) or upload a CSV file, with a header row."},
            {"name": "question", "label": "What should the report answer?", "type": "textarea", "required": False,
             "max_length": 2000},
            {"name": "audience", "label": "Readers", "type": "text", "required": False, "max_length": 300},
        ],
        "prompt": (
            "Write the report \"{report_title}\" for {audience}.\n\nQuestion to answer: {question}\n\n"
            "Data (CSV, first row is the header):\n{data}\n\n"
            "Sections: summary (three sentences), key findings (numbered, each with the figures from the data "
            "that support it), a table of the most telling figures, and recommendations. Compute only what the "
            "data supports and say so when it cannot answer the question."
        ),
    },
]


def templates_seed(apps, schema_editor):
    ContentTemplate = apps.get_model("creators_catalog", "ContentTemplate")
    now = timezone.now()
    for template in TEMPLATES:
        ContentTemplate.objects.get_or_create(key=template["key"], version=1, defaults={
            **{name: value for name, value in template.items() if name != "key"},
            "system_prompt": SYSTEM, "is_active": True, "created_by": "seed", "created_at": now,
        })


def templates_unseed(apps, schema_editor):
    ContentTemplate = apps.get_model("creators_catalog", "ContentTemplate")
    ContentTemplate.objects.filter(created_by="seed", version=1, key__in=[t["key"] for t in TEMPLATES]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("creators_catalog", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(templates_seed, templates_unseed),
    ]
