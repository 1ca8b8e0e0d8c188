"""A curated table of small-business professions and their usual contact spheres: the other
professions that serve the same client (a realtor's buyer also needs a mortgage broker, a home
inspector, a mover...). The table is small, so matching a free-text profession happens in
Python: normalised words, synonyms, then word overlap."""

from __future__ import annotations

import re

# Every profession named in a sphere is itself a key of this table (a test checks it).
SPHERES: dict[str, list[str]] = {
    "realtor": [
        "mortgage broker",
        "home inspector",
        "home stager",
        "mover",
        "insurance agent",
        "real estate attorney",
        "handyman",
        "interior designer",
        "title agent",
        "appraiser",
    ],
    "mortgage broker": [
        "realtor",
        "financial planner",
        "accountant",
        "insurance agent",
        "real estate attorney",
        "title agent",
        "appraiser",
    ],
    "home inspector": [
        "realtor",
        "mortgage broker",
        "pest control",
        "roofer",
        "handyman",
        "hvac technician",
    ],
    "home stager": ["realtor", "interior designer", "photographer", "painter", "house cleaner"],
    "mover": ["realtor", "home stager", "house cleaner", "senior care advisor", "storage facility"],
    "storage facility": ["mover", "realtor", "home stager", "senior care advisor"],
    "insurance agent": [
        "realtor",
        "mortgage broker",
        "financial planner",
        "auto dealer",
        "accountant",
        "business attorney",
    ],
    "real estate attorney": [
        "realtor",
        "mortgage broker",
        "title agent",
        "estate planning attorney",
        "accountant",
    ],
    "title agent": ["realtor", "mortgage broker", "real estate attorney", "appraiser"],
    "appraiser": ["realtor", "mortgage broker", "title agent", "home inspector"],
    "property manager": [
        "realtor",
        "handyman",
        "plumber",
        "electrician",
        "house cleaner",
        "landscaper",
        "locksmith",
    ],
    "handyman": [
        "realtor",
        "home inspector",
        "painter",
        "plumber",
        "electrician",
        "property manager",
    ],
    "interior designer": [
        "realtor",
        "home stager",
        "general contractor",
        "painter",
        "architect",
        "furniture store",
    ],
    "architect": ["general contractor", "interior designer", "landscaper", "real estate attorney"],
    "general contractor": [
        "architect",
        "plumber",
        "electrician",
        "roofer",
        "painter",
        "hvac technician",
        "interior designer",
    ],
    "plumber": ["general contractor", "electrician", "hvac technician", "handyman", "roofer"],
    "electrician": [
        "general contractor",
        "plumber",
        "hvac technician",
        "security systems installer",
    ],
    "roofer": ["general contractor", "home inspector", "painter", "insurance agent"],
    "painter": ["general contractor", "interior designer", "home stager", "handyman"],
    "hvac technician": ["plumber", "electrician", "general contractor", "home inspector"],
    "landscaper": ["pool service", "general contractor", "property manager", "pest control"],
    "pool service": ["landscaper", "pest control", "house cleaner", "property manager"],
    "pest control": ["home inspector", "landscaper", "property manager", "house cleaner"],
    "house cleaner": ["property manager", "home stager", "mover", "pet sitter", "landscaper"],
    "locksmith": ["security systems installer", "property manager", "handyman"],
    "security systems installer": ["locksmith", "electrician", "it support", "insurance agent"],
    "furniture store": ["interior designer", "home stager", "mover"],
    "accountant": [
        "bookkeeper",
        "financial planner",
        "business attorney",
        "banker",
        "insurance agent",
        "payroll provider",
        "tax preparer",
    ],
    "bookkeeper": ["accountant", "payroll provider", "banker", "business coach", "tax preparer"],
    "tax preparer": ["accountant", "bookkeeper", "financial planner", "estate planning attorney"],
    "financial planner": [
        "accountant",
        "estate planning attorney",
        "insurance agent",
        "banker",
        "mortgage broker",
        "tax preparer",
    ],
    "business attorney": [
        "accountant",
        "banker",
        "insurance agent",
        "business coach",
        "hr consultant",
        "commercial real estate agent",
    ],
    "estate planning attorney": [
        "financial planner",
        "accountant",
        "insurance agent",
        "senior care advisor",
        "funeral director",
    ],
    "family attorney": ["financial planner", "therapist", "realtor", "accountant"],
    "banker": [
        "accountant",
        "business attorney",
        "financial planner",
        "bookkeeper",
        "mortgage broker",
    ],
    "payroll provider": ["accountant", "bookkeeper", "hr consultant", "business attorney"],
    "hr consultant": ["payroll provider", "business attorney", "business coach", "recruiter"],
    "recruiter": ["hr consultant", "business coach", "payroll provider"],
    "business coach": [
        "marketing consultant",
        "accountant",
        "hr consultant",
        "business attorney",
        "web designer",
    ],
    "commercial real estate agent": [
        "business attorney",
        "banker",
        "commercial cleaner",
        "office furniture supplier",
        "it support",
        "general contractor",
    ],
    "wedding planner": [
        "photographer",
        "florist",
        "caterer",
        "dj",
        "event venue",
        "baker",
        "videographer",
        "bridal shop",
        "makeup artist",
    ],
    "photographer": ["wedding planner", "videographer", "florist", "makeup artist", "event venue"],
    "videographer": ["photographer", "wedding planner", "dj", "event venue"],
    "florist": ["wedding planner", "event venue", "caterer", "funeral director", "photographer"],
    "caterer": ["wedding planner", "event venue", "baker", "florist", "dj", "event rentals"],
    "dj": ["wedding planner", "event venue", "photographer", "caterer", "event rentals"],
    "event venue": ["wedding planner", "caterer", "florist", "dj", "event rentals", "photographer"],
    "event rentals": ["event venue", "caterer", "wedding planner", "dj"],
    "baker": ["caterer", "wedding planner", "event venue", "florist"],
    "bridal shop": ["wedding planner", "makeup artist", "hair stylist", "photographer"],
    "makeup artist": ["hair stylist", "bridal shop", "photographer", "esthetician"],
    "hair stylist": ["makeup artist", "esthetician", "nail technician", "bridal shop"],
    "esthetician": ["hair stylist", "massage therapist", "nail technician", "dermatologist"],
    "nail technician": ["hair stylist", "esthetician", "makeup artist"],
    "dermatologist": ["esthetician", "nutritionist", "dentist"],
    "chiropractor": [
        "massage therapist",
        "physical therapist",
        "personal trainer",
        "acupuncturist",
        "nutritionist",
        "yoga instructor",
    ],
    "massage therapist": [
        "chiropractor",
        "physical therapist",
        "personal trainer",
        "acupuncturist",
        "esthetician",
    ],
    "physical therapist": [
        "chiropractor",
        "massage therapist",
        "personal trainer",
        "acupuncturist",
    ],
    "acupuncturist": ["chiropractor", "massage therapist", "nutritionist", "yoga instructor"],
    "personal trainer": [
        "nutritionist",
        "chiropractor",
        "massage therapist",
        "physical therapist",
        "yoga instructor",
    ],
    "nutritionist": ["personal trainer", "chiropractor", "acupuncturist", "dentist"],
    "yoga instructor": ["personal trainer", "massage therapist", "acupuncturist", "therapist"],
    "therapist": ["life coach", "family attorney", "yoga instructor", "nutritionist"],
    "life coach": ["therapist", "business coach", "personal trainer", "yoga instructor"],
    "dentist": ["orthodontist", "optometrist", "chiropractor", "dermatologist", "pediatrician"],
    "orthodontist": ["dentist", "pediatrician", "optometrist"],
    "optometrist": ["dentist", "orthodontist", "pediatrician"],
    "pediatrician": ["dentist", "orthodontist", "tutor", "daycare"],
    "daycare": ["pediatrician", "tutor", "photographer"],
    "tutor": ["daycare", "pediatrician", "therapist"],
    "senior care advisor": [
        "estate planning attorney",
        "financial planner",
        "mover",
        "realtor",
        "funeral director",
    ],
    "funeral director": ["estate planning attorney", "florist", "senior care advisor", "caterer"],
    "web designer": [
        "graphic designer",
        "copywriter",
        "marketing consultant",
        "social media manager",
        "it support",
        "printer",
    ],
    "graphic designer": ["web designer", "printer", "copywriter", "sign maker", "photographer"],
    "printer": [
        "graphic designer",
        "sign maker",
        "promotional products",
        "marketing consultant",
        "web designer",
    ],
    "sign maker": ["printer", "graphic designer", "promotional products"],
    "promotional products": ["printer", "sign maker", "marketing consultant", "graphic designer"],
    "copywriter": [
        "web designer",
        "graphic designer",
        "marketing consultant",
        "social media manager",
    ],
    "marketing consultant": [
        "web designer",
        "graphic designer",
        "copywriter",
        "social media manager",
        "printer",
        "business coach",
    ],
    "social media manager": ["marketing consultant", "web designer", "copywriter", "photographer"],
    "it support": [
        "web designer",
        "security systems installer",
        "office furniture supplier",
        "commercial cleaner",
        "accountant",
    ],
    "commercial cleaner": [
        "commercial real estate agent",
        "it support",
        "office furniture supplier",
        "pest control",
        "property manager",
    ],
    "office furniture supplier": [
        "commercial real estate agent",
        "commercial cleaner",
        "it support",
        "interior designer",
    ],
    "auto mechanic": ["auto dealer", "insurance agent", "auto detailer"],
    "auto dealer": ["auto mechanic", "insurance agent", "banker", "auto detailer"],
    "auto detailer": ["auto mechanic", "auto dealer", "insurance agent"],
    "travel agent": ["wedding planner", "photographer", "insurance agent"],
    "veterinarian": ["pet groomer", "dog trainer", "pet sitter"],
    "pet groomer": ["veterinarian", "dog trainer", "pet sitter"],
    "dog trainer": ["veterinarian", "pet groomer", "pet sitter"],
    "pet sitter": ["veterinarian", "pet groomer", "dog trainer", "house cleaner"],
}

# Other ways people write a profession -> its key in SPHERES.
SYNONYMS: dict[str, str] = {
    "real estate agent": "realtor",
    "estate agent": "realtor",
    "real estate broker": "realtor",
    "realty": "realtor",
    "residential real estate": "realtor",
    "loan officer": "mortgage broker",
    "mortgage lender": "mortgage broker",
    "mortgage": "mortgage broker",
    "inspector": "home inspector",
    "stager": "home stager",
    "staging": "home stager",
    "moving company": "mover",
    "removals": "mover",
    "removal company": "mover",
    "insurance broker": "insurance agent",
    "insurance": "insurance agent",
    "conveyancer": "real estate attorney",
    "conveyancing solicitor": "real estate attorney",
    "property lawyer": "real estate attorney",
    "real estate lawyer": "real estate attorney",
    "title company": "title agent",
    "escrow officer": "title agent",
    "handyperson": "handyman",
    "odd jobs": "handyman",
    "interior decorator": "interior designer",
    "builder": "general contractor",
    "contractor": "general contractor",
    "remodeler": "general contractor",
    "hvac": "hvac technician",
    "heating and cooling": "hvac technician",
    "gardener": "landscaper",
    "landscape designer": "landscaper",
    "exterminator": "pest control",
    "cleaner": "house cleaner",
    "maid service": "house cleaner",
    "cpa": "accountant",
    "chartered accountant": "accountant",
    "certified public accountant": "accountant",
    "bookkeeping": "bookkeeper",
    "tax advisor": "tax preparer",
    "tax accountant": "tax preparer",
    "financial advisor": "financial planner",
    "financial adviser": "financial planner",
    "wealth manager": "financial planner",
    "business lawyer": "business attorney",
    "corporate lawyer": "business attorney",
    "business solicitor": "business attorney",
    "lawyer": "business attorney",
    "attorney": "business attorney",
    "solicitor": "business attorney",
    "estate lawyer": "estate planning attorney",
    "wills and trusts": "estate planning attorney",
    "elder law attorney": "estate planning attorney",
    "divorce lawyer": "family attorney",
    "family lawyer": "family attorney",
    "bank": "banker",
    "commercial banker": "banker",
    "business banker": "banker",
    "payroll": "payroll provider",
    "payroll service": "payroll provider",
    "human resources": "hr consultant",
    "hr": "hr consultant",
    "headhunter": "recruiter",
    "staffing agency": "recruiter",
    "coach": "business coach",
    "executive coach": "business coach",
    "commercial realtor": "commercial real estate agent",
    "commercial property agent": "commercial real estate agent",
    "event planner": "wedding planner",
    "photography": "photographer",
    "florist shop": "florist",
    "flowers": "florist",
    "catering": "caterer",
    "disc jockey": "dj",
    "venue": "event venue",
    "banquet hall": "event venue",
    "party rentals": "event rentals",
    "bakery": "baker",
    "cake maker": "baker",
    "hairdresser": "hair stylist",
    "hair salon": "hair stylist",
    "hairstylist": "hair stylist",
    "barber": "hair stylist",
    "beautician": "esthetician",
    "aesthetician": "esthetician",
    "skin care": "esthetician",
    "manicurist": "nail technician",
    "chiropractic": "chiropractor",
    "massage": "massage therapist",
    "physiotherapist": "physical therapist",
    "physio": "physical therapist",
    "fitness coach": "personal trainer",
    "fitness trainer": "personal trainer",
    "trainer": "personal trainer",
    "dietitian": "nutritionist",
    "dietician": "nutritionist",
    "yoga teacher": "yoga instructor",
    "counselor": "therapist",
    "counsellor": "therapist",
    "psychotherapist": "therapist",
    "dental": "dentist",
    "optician": "optometrist",
    "eye doctor": "optometrist",
    "childcare": "daycare",
    "nursery": "daycare",
    "home care": "senior care advisor",
    "senior living advisor": "senior care advisor",
    "undertaker": "funeral director",
    "web developer": "web designer",
    "website designer": "web designer",
    "designer": "graphic designer",
    "print shop": "printer",
    "printing": "printer",
    "signage": "sign maker",
    "promotional merchandise": "promotional products",
    "content writer": "copywriter",
    "marketing": "marketing consultant",
    "marketing agency": "marketing consultant",
    "digital marketer": "marketing consultant",
    "social media": "social media manager",
    "it": "it support",
    "it consultant": "it support",
    "managed it services": "it support",
    "computer repair": "it support",
    "janitorial": "commercial cleaner",
    "office cleaning": "commercial cleaner",
    "office furniture": "office furniture supplier",
    "mechanic": "auto mechanic",
    "car dealer": "auto dealer",
    "car detailer": "auto detailer",
    "travel advisor": "travel agent",
    "vet": "veterinarian",
    "dog groomer": "pet groomer",
    "pet sitting": "pet sitter",
    "dog walker": "pet sitter",
}

# Words that say little about which profession is meant.
_STOP = {"a", "an", "and", "the", "of", "for", "in", "services", "service", "company", "owner"}
_WORD = re.compile(r"[a-z0-9]+")


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lowercased, singular, meaningful words: "Real-Estate Agents" -> ["real", "estate", "agent"]."""
    text = (text or "").lower().replace("&", " and ")
    return [_singular(w) for w in _WORD.findall(text) if w not in _STOP]


def _key(text: str) -> str:
    return " ".join(words(text))


_BY_KEY: dict[str, str] = {_key(name): name for name in SPHERES}
_BY_KEY.update({_key(alias): name for alias, name in SYNONYMS.items()})


def canonical(profession: str) -> str | None:
    """The table's name for a free-text profession, or None when nothing is close enough."""
    key = _key(profession)
    if not key:
        return None
    if key in _BY_KEY:
        return _BY_KEY[key]
    mine = set(key.split())
    best, best_score = None, 0.0
    for known, name in _BY_KEY.items():
        theirs = set(known.split())
        shared = mine & theirs
        if not shared:
            continue
        # Every word of a known name found in the text ("licensed realtor", "wedding and
        # event planner") counts most; otherwise the share of words in common.
        score = 1.0 if theirs <= mine else len(shared) / len(mine | theirs)
        score += len(theirs) / 100  # prefer the longer, more specific name on ties
        if score > best_score:
            best, best_score = name, score
    return best if best_score >= 0.5 else None


def sphere_for(profession: str) -> list[str]:
    """The professions that usually serve the same client as ``profession``; [] if unknown."""
    name = canonical(profession)
    return list(SPHERES[name]) if name else []


def matches(sphere_profession: str, contact_profession: str) -> bool:
    """Whether a contact's free-text profession fills a sphere profession (loosely: same
    table entry, or every word of the sphere profession appears in the contact's)."""
    wanted, have = _key(sphere_profession), _key(contact_profession)
    if not wanted or not have:
        return False
    if wanted == have or set(wanted.split()) <= set(have.split()):
        return True
    found = canonical(contact_profession)
    return found is not None and found == canonical(sphere_profession)
