"""Word lists for ``manage.py seed_demo``: names, trades, places and GAINS texts.

Texts may hold ``{placeholders}``, filled in by the command from the same lists:
``{city}``, ``{group}``, ``{first}``, ``{profession}``, ``{n}``, ``{season}``.
"""

FIRST_NAMES = [
    "Aaron", "Abigail", "Adam", "Adrian", "Aisha", "Alan", "Alejandro", "Alex", "Alicia",
    "Amanda", "Amir", "Amy", "Ana", "Andre", "Andrea", "Andrew", "Angela", "Anita", "Anthony",
    "Arjun", "Ashley", "Barbara", "Ben", "Beth", "Bianca", "Brandon", "Brenda", "Brian",
    "Bruce", "Caitlin", "Carla", "Carlos", "Carmen", "Carol", "Catherine", "Chen", "Chloe",
    "Chris", "Christine", "Claire", "Colin", "Craig", "Cynthia", "Dana", "Daniel", "Darius",
    "David", "Deborah", "Denise", "Derek", "Diana", "Diego", "Dominic", "Donna", "Dylan",
    "Eduardo", "Elena", "Elijah", "Elizabeth", "Emily", "Emma", "Eric", "Erin", "Ethan",
    "Fatima", "Fiona", "Frank", "Gabriel", "Gary", "Gemma", "George", "Grace", "Greg",
    "Hannah", "Harold", "Hassan", "Heather", "Helen", "Hiroshi", "Ian", "Isabel", "Jack",
    "Jacqueline", "James", "Jamal", "Janet", "Jason", "Javier", "Jennifer", "Jeremy",
    "Jessica", "Joanna", "John", "Jordan", "Jose", "Joseph", "Joy", "Julia", "Justin",
    "Karen", "Katie", "Keith", "Kelly", "Kevin", "Kim", "Kofi", "Laura", "Lauren", "Leah",
    "Leon", "Linda", "Lisa", "Luca", "Lucy", "Luis", "Maria", "Mark", "Martin", "Maya",
    "Megan", "Mei", "Melissa", "Michael", "Michelle", "Miguel", "Mohammed", "Monica",
    "Nadia", "Naomi", "Natalie", "Nathan", "Neil", "Nicole", "Nina", "Noah", "Olivia",
    "Omar", "Owen", "Pamela", "Patrick", "Paul", "Peter", "Priya", "Rachel", "Rahul",
    "Raj", "Ramon", "Rebecca", "Ricardo", "Richard", "Rita", "Robert", "Rosa", "Ryan",
    "Samantha", "Samuel", "Sandra", "Sara", "Scott", "Sean", "Sharon", "Simon", "Sofia",
    "Sophie", "Stephen", "Steve", "Susan", "Tanya", "Teresa", "Thomas", "Tim", "Tom",
    "Tony", "Tracy", "Valerie", "Vanessa", "Victor", "Vikram", "Wei", "William", "Yusuf",
    "Zoe",
]  # fmt: skip

LAST_NAMES = [
    "Abbott", "Adams", "Ahmed", "Alvarez", "Anderson", "Bailey", "Baker", "Banerjee",
    "Barnes", "Bell", "Bennett", "Brooks", "Brown", "Bryant", "Butler", "Campbell", "Carter",
    "Castillo", "Chan", "Chapman", "Chen", "Clark", "Cole", "Collins", "Cook", "Cooper",
    "Cruz", "Davies", "Davis", "Diaz", "Dixon", "Doyle", "Edwards", "Ellis", "Evans",
    "Fernandez", "Fischer", "Fisher", "Fleming", "Flores", "Ford", "Foster", "Fraser",
    "Garcia", "Gibson", "Gomez", "Gonzalez", "Gordon", "Graham", "Grant", "Gray", "Green",
    "Griffin", "Gupta", "Hall", "Hamilton", "Harris", "Harrison", "Hayes", "Henderson",
    "Hernandez", "Hill", "Ho", "Holmes", "Howard", "Hughes", "Hunt", "Ibrahim", "Jackson",
    "James", "Jenkins", "Johnson", "Jones", "Kaur", "Kelly", "Kennedy", "Khan", "Kim",
    "King", "Kowalski", "Kumar", "Lam", "Lee", "Lewis", "Lopez", "Marshall", "Martin",
    "Martinez", "Mason", "Matthews", "McCarthy", "Mehta", "Mendoza", "Miller", "Mitchell",
    "Moore", "Morales", "Morgan", "Morris", "Murphy", "Murray", "Nguyen", "Nelson",
    "Novak", "O'Brien", "O'Connor", "Okafor", "Oliver", "Ortiz", "Owens", "Palmer",
    "Parker", "Patel", "Perez", "Perry", "Peterson", "Phillips", "Powell", "Price",
    "Quinn", "Ramirez", "Reed", "Reyes", "Reynolds", "Richardson", "Rivera", "Roberts",
    "Robinson", "Rodriguez", "Rogers", "Rossi", "Russell", "Sanchez", "Sanders", "Schmidt",
    "Scott", "Shah", "Shaw", "Silva", "Simmons", "Singh", "Smith", "Snyder", "Stewart",
    "Sullivan", "Tanaka", "Taylor", "Thomas", "Thompson", "Torres", "Tran", "Turner",
    "Walker", "Wallace", "Walsh", "Wang", "Ward", "Watson", "Webb", "West", "White",
    "Williams", "Wilson", "Wong", "Wood", "Wright", "Yamamoto", "Young", "Zhang",
]  # fmt: skip

# (profession, words a business in that trade puts after a name in its company name)
PROFESSIONS = [
    ("Financial planner", ["Financial Planning", "Wealth Partners", "Financial Group"]),
    ("Realtor", ["Realty", "Homes", "Real Estate Group", "Properties"]),
    ("Mortgage broker", ["Mortgage", "Home Loans", "Lending"]),
    ("Personal trainer", ["Fitness", "Personal Training", "Strength Studio"]),
    ("Accountant", ["Accounting", "CPA", "Tax & Accounting"]),
    ("Bookkeeper", ["Bookkeeping", "Books & Payroll"]),
    ("Landscaper", ["Landscaping", "Gardens", "Lawn & Landscape"]),
    ("Photographer", ["Photography", "Studio", "Portraits"]),
    ("Lawyer", ["Law", "Legal", "& Associates"]),
    ("Estate planning attorney", ["Estate Law", "Legal", "Wills & Trusts"]),
    ("Chiropractor", ["Chiropractic", "Spine & Wellness"]),
    ("Web designer", ["Web Design", "Digital", "Creative"]),
    ("Insurance agent", ["Insurance", "Insurance Agency", "Risk Advisors"]),
    ("Florist", ["Flowers", "Floral Design", "Blooms"]),
    ("Caterer", ["Catering", "Kitchen", "Events & Catering"]),
    ("Professional organiser", ["Organizing", "Home Organisation", "Declutter Co."]),
    ("Interior designer", ["Interiors", "Design Studio"]),
    ("Home inspector", ["Home Inspections", "Inspection Services"]),
    ("General contractor", ["Construction", "Builders", "Renovations"]),
    ("Plumber", ["Plumbing", "Plumbing & Heating"]),
    ("Electrician", ["Electric", "Electrical Services"]),
    ("Dentist", ["Dental", "Family Dentistry"]),
    ("Massage therapist", ["Massage", "Bodywork"]),
    ("Nutritionist", ["Nutrition", "Wellness"]),
    ("Hairstylist", ["Salon", "Hair Studio"]),
    ("Veterinarian", ["Animal Hospital", "Veterinary Clinic"]),
    ("Business coach", ["Coaching", "Business Coaching", "Growth Partners"]),
    ("Marketing consultant", ["Marketing", "Brand Strategy", "Media"]),
    ("Graphic designer", ["Design", "Creative Studio"]),
    ("IT consultant", ["IT Services", "Tech Solutions", "Managed IT"]),
    ("Printer", ["Print", "Printing & Signs"]),
    ("Travel agent", ["Travel", "Journeys"]),
    ("Event planner", ["Events", "Event Design"]),
    ("Wedding planner", ["Weddings", "Bridal Events"]),
    ("Cleaning service owner", ["Cleaning", "Maid Service"]),
    ("Moving company owner", ["Moving", "Movers & Storage"]),
    ("Auto mechanic", ["Auto Repair", "Garage", "Motors"]),
    ("Banker", ["Bank", "Community Bank"]),
    ("Copywriter", ["Copy", "Words & Content"]),
    ("Videographer", ["Video", "Films"]),
    ("HR consultant", ["HR Solutions", "People Partners"]),
    ("Commercial cleaner", ["Facility Services", "Commercial Cleaning"]),
    ("Staging specialist", ["Home Staging", "Staging & Design"]),
    ("Pet groomer", ["Pet Spa", "Grooming"]),
    ("Tutor", ["Tutoring", "Learning Centre"]),
    ("Optometrist", ["Eye Care", "Vision Center"]),
]

COMPANY_PREFIXES = [
    "Acorn", "Apex", "Beacon", "Blue Sky", "Bright Path", "Cedar", "Clearwater", "Cornerstone",
    "Evergreen", "First Light", "Golden Gate", "Harbor", "Heritage", "Keystone", "Lakeside",
    "Maple", "Meridian", "North Star", "Oak Tree", "Pinnacle", "Redwood", "Riverside",
    "Summit", "Sunrise", "Trailhead", "True North", "Union Street", "Willow",
]  # fmt: skip

EMAIL_DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me"]

CITIES = [
    "Austin", "Boulder", "Charlotte", "Columbus", "Denver", "Fort Collins", "Madison",
    "Minneapolis", "Nashville", "Pasadena", "Portland", "Raleigh", "Sacramento", "San Diego",
    "Santa Barbara", "Scottsdale", "Seattle", "Tacoma", "Tampa", "Tucson",
]  # fmt: skip

STREETS = [
    "Main St", "Oak Ave", "Pine St", "Maple Dr", "Cedar Ln", "Elm St", "Park Ave",
    "Washington Blvd", "Lake St", "Hillcrest Rd", "Market St", "Broadway", "2nd Ave",
]  # fmt: skip

AREA_CODES = ["303", "312", "404", "415", "503", "512", "602", "612", "617", "704", "720"]

NETWORK_GROUPS = [
    "the Tuesday BNI chapter", "the Thursday BNI chapter", "the Chamber of Commerce",
    "Rotary", "the Women in Business circle", "the Young Professionals mixer",
    "the Realtors' breakfast club", "the Small Business Alliance", "LeTip",
    "the Downtown Business Association", "the Lions Club", "the Startup meetup",
]  # fmt: skip

SEASONS = ["spring", "summer", "autumn", "the end of the year", "Q1", "Q3"]

TAGS = [
    "BNI", "Chamber", "Rotary", "Contact sphere", "Referral partner", "Vendor", "Client",
    "Prospect", "Power partner", "Golf", "Neighbour", "Alumni", "Speaker", "Hot lead",
    "Mentor", "Connector",
]  # fmt: skip

MET_HOW = [
    "Visitor day at {group}",
    "Sat next to each other at {group}",
    "Introduced by {first} over e-mail",
    "Referred by a client",
    "Met at a Chamber after-hours mixer in {city}",
    "LinkedIn message after a webinar",
    "Kids at the same school in {city}",
    "Speaker at {group}",
    "Coffee line at a conference",
    "Their booth at the {city} small business expo",
    "Client of mine who became a partner",
    "Neighbour in {city}",
    "Golf scramble fundraiser",
    "Same co-working space in {city}",
]

CONTACT_NOTES = [
    "Prefers texts to calls.",
    "Best reached before 9 a.m.",
    "Always brings a guest to {group}.",
    "Follows up the same day, every time.",
    "Sends a handwritten thank-you card after every referral.",
    "Very responsive on LinkedIn, slow on e-mail.",
    "Works mostly with families with young kids.",
    "Ideal client: homeowners 45-65 planning retirement.",
    "Serves small businesses with under {n} employees.",
    "Moving office across town in {season}.",
    "Has a waiting list; check capacity before referring.",
    "Offers a free first consultation to anyone I send.",
    "Asked me to keep an eye out for a good bookkeeper.",
    "Spanish speaker; great for bilingual clients.",
]

WORD_OF_MOUTH = [
    "Two clients I sent said she went above and beyond.",
    "{first} says they always call referrals back within a day.",
    "Heard from {group} that they deliver on time and on budget.",
    "One client complained about slow replies last year.",
    "Everyone at {group} trusts them with their own families.",
    "{first} sent them a client and got a thank-you gift the next week.",
    "A couple of members say the prices are high but the work is worth it.",
]

# Realistic short facts per GainsKind value.
GAINS_TEXTS = {
    "goal": [
        "Wants to hire a second trainer by {season}",
        "Wants to double recurring clients this year",
        "Looking to open a second office in {city}",
        "Wants more commercial clients, fewer residential",
        "Wants to speak at {group} this year",
        "Planning to retire in five years and sell the practice",
        "Wants to get into corporate wellness programmes",
        "Aims for {n} new clients a month",
        "Wants to launch an online course by {season}",
        "Looking for a business partner to take on admin",
        "Wants to write a book about the trade",
        "Wants to reach first-time home buyers",
    ],
    "accomplishment": [
        "Won Small Business of the Year in {city}",
        "Ran the {city} marathon last year",
        "Closed the biggest deal of their career this spring",
        "Certified as a CFP after three attempts",
        "Grew the team from 2 to {n} people",
        "Published a column in the local business journal",
        "Raised money for the children's hospital with a charity gala",
        "Ten years in business this year",
        "Top referral giver at {group} last quarter",
        "Finished a kitchen remodel featured in a home magazine",
    ],
    "interest": [
        "Keen golfer, plays every Saturday",
        "Coaches their daughter's soccer team",
        "Into sourdough baking",
        "Loves hiking in the mountains near {city}",
        "Follows the local hockey team religiously",
        "Plays guitar in a covers band",
        "Volunteers at the animal shelter",
        "Big reader of business biographies",
        "Learning Italian for a trip in {season}",
        "Restores vintage motorbikes",
        "Runs a wine club with neighbours",
        "Does triathlons",
    ],
    "network": [
        "Runs {group}",
        "Member of {group} for six years",
        "On the board of the {city} Chamber of Commerce",
        "Knows every realtor in {city}",
        "Alumni association of the state university",
        "Volunteers with the local Rotary club",
        "Close with the owners of the big gym downtown",
        "Church community of about 400 families",
        "Part of a mastermind of {n} business owners",
        "Sits on the PTA at the elementary school",
        "Friends with the editor of the {city} business journal",
    ],
    "skill": [
        "Great at explaining money to nervous first-timers",
        "Public speaking; runs workshops",
        "Fluent in Spanish and Portuguese",
        "Expert at Excel and financial models",
        "Negotiation; closes tough deals",
        "Social media marketing, especially Instagram",
        "Photography on the side",
        "Writes very clear proposals",
        "Project management for renovations",
        "Calms down stressed clients",
        "Knows the local permit process inside out",
    ],
}

MEETING_PLACES = {
    "one_to_one": [
        "Their office", "My office", "Blue Bottle Coffee on {street}", "The Daily Grind, {city}",
        "Panera on {street}", "Lunch at the Corner Bistro", "Walk around the lake",
    ],
    "coffee": [
        "Starbucks on {street}", "Blue Bottle Coffee", "The Daily Grind, {city}",
        "Corner café by the station", "Hotel lobby café",
    ],
    "call": ["Phone", "Phone", ""],
    "video": ["Zoom", "Google Meet", "Teams"],
    "event": [
        "{group}", "{group}", "Chamber after-hours mixer", "{city} small business expo",
        "Charity golf scramble", "Holiday networking party", "Visitor day at {group}",
        "Lunch & learn at the library",
    ],
    "email": [""],
    "message": ["LinkedIn", "Text message", "WhatsApp"],
    "other": ["Bumped into them at the grocery store", "Kids' soccer game", "Gym"],
}  # fmt: skip

MEETING_NOTES = {
    "one_to_one": [
        "Swapped GAINS sheets. Promised an intro to a {profession}.",
        "Talked about ideal clients; they want more referrals from {profession}s.",
        "Went through each other's contact spheres.",
        "Good one-to-one; send a thank-you note and the article we discussed.",
        "They asked how best to introduce me. Sent my one-line pitch afterwards.",
        "",
    ],
    "coffee": [
        "Quick catch-up, business is busy.",
        "Caught up on family news, kids starting school.",
        "Asked for a {profession} recommendation.",
        "",
    ],
    "call": [
        "Follow-up on the referral I sent.",
        "Called to say thanks for the introduction.",
        "Checked in; they are swamped until {season}.",
        "",
    ],
    "video": [
        "Screen-shared their new website, asked for feedback.",
        "Planned a joint workshop.",
        "",
    ],
    "event": [
        "Gave a 60-second pitch; two people asked for cards.",
        "Heard a great feature presentation on estate planning.",
        "Met three new visitors; follow up this week.",
        "Sat at the same table, talked about {season} plans.",
        "",
    ],
    "email": [
        "Sent the intro e-mail.",
        "Shared a client's testimonial.",
        "Replied about the referral status.",
        "",
    ],
    "message": ["Congratulated them on the anniversary.", "Quick thank-you.", ""],
    "other": ["Chatted for ten minutes.", ""],
}

TIME_ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
    "Europe/London",
    "Australia/Sydney",
]

# Sentences for the user's own GAINS profile.
USER_GAINS = {
    "goals": [
        "Add {n} new clients this year through referrals.",
        "Build a contact sphere of five trusted partners.",
        "Speak at two networking groups this year.",
        "Hire an assistant by {season}.",
        "Get into corporate wellness programmes.",
    ],
    "accomplishments": [
        "Twelve years in business.",
        "Top referral giver at {group} last year.",
        "Finished my first half marathon.",
        "Grew from a home office to a storefront in {city}.",
    ],
    "interests": [
        "Hiking, cooking and my two dogs.",
        "Golf on Saturday mornings.",
        "Coaching youth basketball.",
        "Travel, especially Italy.",
        "Gardening and the farmers' market.",
    ],
    "networks": [
        "Member of {group}.",
        "Board member of the {city} Chamber of Commerce.",
        "Alumni association of the state university.",
        "Parents at my kids' school.",
    ],
    "skills": [
        "Making complicated things simple for clients.",
        "Public speaking and workshops.",
        "Fluent in Spanish.",
        "Organising events for a hundred people.",
        "Negotiation.",
    ],
}
