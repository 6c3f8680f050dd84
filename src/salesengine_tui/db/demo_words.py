"""Fixed word lists for the demo data: the service area, equipment, tickets, estimates, notes.

Kept apart from the generator so the generator reads as logic. Every string here goes into a
COPY text stream unescaped, so none may hold a tab, a newline or a backslash (checked by
`demo_gen.check_copy_safe` when the pools are built).
"""

from __future__ import annotations

COMPANY_DOMAIN = "lonestarcomfort.example"
# Reserved example domains (RFC 2606): a demo database must never email real people.
CUSTOMER_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

LEAD_SOURCES = (
    "Referral",
    "Google Ads",
    "Facebook",
    "Website",
    "Yelp",
    "Home Show",
    "Door Hanger",
    "Tech upsell",
)
# Relative weights, in the order above: referrals and paid search bring most leads.
LEAD_SOURCE_WEIGHTS = (22, 20, 10, 16, 8, 5, 4, 15)

# One metro service area, as a real HVAC company has: city, ZIP codes, area codes, weight.
_DFW_EAST = ("214", "469", "972")
_DFW_WEST = ("817", "682")
SERVICE_AREA: tuple[tuple[str, tuple[str, ...], tuple[str, ...], int], ...] = (
    (
        "Dallas",
        ("75201", "75204", "75206", "75214", "75218", "75225", "75230", "75243"),
        _DFW_EAST,
        30,
    ),
    ("Plano", ("75023", "75024", "75025", "75074", "75075", "75093"), _DFW_EAST, 14),
    ("Frisco", ("75033", "75034", "75035", "75036"), _DFW_EAST, 10),
    ("McKinney", ("75069", "75070", "75071", "75072"), _DFW_EAST, 9),
    ("Richardson", ("75080", "75081", "75082"), _DFW_EAST, 6),
    ("Garland", ("75040", "75041", "75042", "75043", "75044"), _DFW_EAST, 8),
    ("Irving", ("75038", "75039", "75060", "75061", "75062", "75063"), _DFW_EAST, 8),
    ("Arlington", ("76001", "76002", "76006", "76010", "76013", "76016", "76017"), _DFW_WEST, 12),
    ("Fort Worth", ("76104", "76107", "76109", "76116", "76123", "76132", "76137"), _DFW_WEST, 20),
    ("Denton", ("76201", "76205", "76207", "76208", "76209", "76210"), _DFW_WEST, 5),
    ("Carrollton", ("75006", "75007", "75010"), _DFW_EAST, 5),
    ("Lewisville", ("75057", "75067", "75077"), _DFW_EAST, 4),
    ("Allen", ("75002", "75013"), _DFW_EAST, 4),
    ("Mesquite", ("75149", "75150", "75181"), _DFW_EAST, 5),
    ("Grand Prairie", ("75050", "75051", "75052", "75054"), _DFW_EAST, 6),
    ("Rowlett", ("75088", "75089"), _DFW_EAST, 2),
    ("Wylie", ("75098",), _DFW_EAST, 2),
    ("Flower Mound", ("75022", "75028"), _DFW_EAST, 3),
    ("Grapevine", ("76051",), _DFW_WEST, 2),
    ("Coppell", ("75019",), _DFW_EAST, 2),
    ("Southlake", ("76092",), _DFW_WEST, 2),
    ("Keller", ("76244", "76248"), _DFW_WEST, 3),
    ("Mansfield", ("76063",), _DFW_WEST, 3),
    ("Rockwall", ("75032", "75087"), _DFW_EAST, 2),
    ("Euless", ("76039", "76040"), _DFW_WEST, 2),
    ("Bedford", ("76021", "76022"), _DFW_WEST, 2),
    ("Hurst", ("76053", "76054"), _DFW_WEST, 2),
    ("Prosper", ("75078",), _DFW_EAST, 2),
    ("Little Elm", ("75068",), _DFW_EAST, 2),
    ("The Colony", ("75056",), _DFW_EAST, 2),
    ("Addison", ("75001",), _DFW_EAST, 1),
    ("Duncanville", ("75116", "75137"), _DFW_EAST, 2),
    ("DeSoto", ("75115",), _DFW_EAST, 2),
    ("Cedar Hill", ("75104",), _DFW_EAST, 2),
    ("Burleson", ("76028",), _DFW_WEST, 2),
)
STATE = "TX"

STREET_WORDS = (
    "Oak",
    "Maple",
    "Elm",
    "Cedar",
    "Pecan",
    "Magnolia",
    "Willow",
    "Live Oak",
    "Mesquite",
    "Bluebonnet",
    "Hickory",
    "Walnut",
    "Cottonwood",
    "Juniper",
    "Sycamore",
    "Post Oak",
    "Lakeview",
    "Ridgecrest",
    "Meadowbrook",
    "Brookhollow",
    "Spring Valley",
    "Hillcrest",
    "Shady Grove",
    "Timberline",
    "Stonebridge",
    "Prairie Creek",
    "Fox Run",
    "Windsor",
    "Preston",
    "Coit",
    "Belt Line",
    "Forest",
    "Greenville",
    "Abrams",
    "Lovers",
    "Mockingbird",
)
STREET_SUFFIXES = (
    ("Dr", 20),
    ("Ln", 16),
    ("St", 14),
    ("Ave", 10),
    ("Ct", 10),
    ("Rd", 8),
    ("Trl", 6),
    ("Way", 6),
    ("Blvd", 4),
    ("Cir", 4),
    ("Pl", 2),
    ("Pkwy", 2),
)

BUSINESS_PATTERNS = (
    "{last} Family Dentistry",
    "{last} Dental Group",
    "{city} Animal Hospital",
    "{last} Law Office",
    "{last} & Sons Auto Repair",
    "{word} Ridge Apartments",
    "{word} Creek Veterinary Clinic",
    "{city} Fitness Center",
    "{last} Insurance Agency",
    "{word} Hills Church",
    "{last} Bakery",
    "{word} Park Office Suites",
    "{city} Montessori",
    "{last} Chiropractic",
    "{word} Plaza Retail Center",
    "{last} Properties LLC",
    "{city} Tire & Lube",
    "{word} Grove Senior Living",
    "{last} Accounting",
    "{city} Eye Care",
)
BUSINESS_MAILBOXES = ("office", "info", "frontdesk", "manager", "accounts")

# --- equipment ---------------------------------------------------------------------------
# kind -> [(brand, weight, model pattern)]; {c} is the capacity code for that kind.
EQUIPMENT_MODELS: dict[str, tuple[tuple[str, int, str], ...]] = {
    "Central AC": (
        ("Carrier", 18, "24ACC6{c}A003"),
        ("Trane", 16, "4TTR6{c}J1000A"),
        ("Lennox", 14, "XC21-{c}-230"),
        ("Rheem", 12, "RA16{c}AJ1NA"),
        ("Goodman", 16, "GSX14{c}1"),
        ("York", 8, "YCG{c}B21S"),
        ("Daikin", 8, "DX16SA{c}1"),
        ("Bryant", 8, "186BNA{c}"),
    ),
    "Furnace": (
        ("Carrier", 18, "59SC5A{c}E17"),
        ("Trane", 16, "S9V2B{c}U4"),
        ("Lennox", 14, "EL296UH{c}XV36B"),
        ("Rheem", 12, "R96VA{c}17MSA"),
        ("Goodman", 16, "GMVC96{c}3BN"),
        ("York", 8, "TM9E{c}B12MP11"),
        ("Daikin", 8, "DM96VC{c}4BN"),
        ("Bryant", 8, "915SB36{c}E17"),
    ),
    "Heat Pump": (
        ("Carrier", 18, "25HCE4{c}A003"),
        ("Trane", 16, "4TWR6{c}H1000A"),
        ("Lennox", 14, "XP21-{c}-230"),
        ("Rheem", 12, "RP16{c}AJ1NA"),
        ("Goodman", 16, "GSZ14{c}1"),
        ("York", 8, "YZE{c}B21S"),
        ("Daikin", 8, "DZ16SA{c}1"),
        ("Bryant", 8, "225ANA{c}"),
    ),
    "Air Handler": (
        ("Carrier", 18, "FE4ANF{c}"),
        ("Trane", 16, "TAM9A0C{c}V31"),
        ("Lennox", 14, "CBA38MV-{c}-230"),
        ("Rheem", 12, "RH2T{c}STANJA"),
        ("Goodman", 16, "AVPTC{c}14"),
        ("York", 8, "AP{c}CXB"),
        ("Daikin", 8, "MBVC{c}00AA"),
        ("Bryant", 8, "FE4ANB{c}"),
    ),
    "Boiler": (
        ("Weil-McLain", 30, "CGa-{c}"),
        ("Burnham", 25, "ES2-{c}"),
        ("Navien", 25, "NCB-{c}E"),
        ("Lochinvar", 20, "KBN{c}"),
    ),
    "Water Heater": (
        ("Rheem", 35, "XG{c}T06EC36U1"),
        ("A. O. Smith", 30, "GCG-{c}"),
        ("Bradford White", 25, "RG2{c}T6N"),
        ("Rinnai", 10, "RU199iN-{c}"),
    ),
    "Ductless Mini-Split": (
        ("Mitsubishi Electric", 35, "MSZ-GL{c}NA"),
        ("Daikin", 25, "FTX{c}UVJU"),
        ("Carrier", 15, "40MHHQ{c}"),
        ("LG", 15, "LS{c}0HSV5"),
        ("Fujitsu", 10, "ASU{c}RLF1"),
    ),
}
CAPACITY_CODES: dict[str, tuple[str, ...]] = {
    "Central AC": ("018", "024", "030", "036", "036", "042", "048", "060"),
    "Heat Pump": ("024", "030", "036", "036", "042", "048", "060"),
    "Air Handler": ("24", "30", "36", "36", "42", "48", "60"),
    "Furnace": ("040", "060", "080", "080", "100", "120"),
    "Boiler": ("3", "4", "5", "6"),
    "Water Heater": ("40", "50", "50", "75"),
    "Ductless Mini-Split": ("09", "12", "12", "15", "18", "24"),
}
# Which units a household has, in the order they get recorded; a customer with n units has
# the first n of one template (so an AC comes with its furnace, a heat pump with its air handler).
HOUSEHOLDS = (
    (("Central AC", "Furnace", "Water Heater", "Ductless Mini-Split"), 45),
    (("Heat Pump", "Air Handler", "Water Heater", "Ductless Mini-Split"), 25),
    (("Furnace", "Central AC", "Water Heater", "Air Handler"), 12),
    (("Water Heater", "Central AC", "Furnace", "Ductless Mini-Split"), 8),
    (("Ductless Mini-Split", "Water Heater", "Ductless Mini-Split", "Heat Pump"), 6),
    (("Boiler", "Water Heater", "Ductless Mini-Split", "Central AC"), 4),
)
COMMERCIAL_HOUSEHOLDS = (
    (("Central AC", "Furnace", "Central AC", "Furnace"), 50),
    (("Heat Pump", "Heat Pump", "Air Handler", "Water Heater"), 30),
    (("Boiler", "Water Heater", "Central AC", "Ductless Mini-Split"), 20),
)

# --- tickets -----------------------------------------------------------------------------
TICKET_SUMMARIES: dict[str, tuple[str, ...]] = {
    "Central AC": (
        "No cooling - compressor not starting",
        "AC blowing warm air",
        "Outdoor unit humming but fan not spinning",
        "Ice on refrigerant lines",
        "Water leaking from indoor coil",
        "Breaker trips when AC kicks on",
        "Spring AC tune-up",
        "Uneven cooling upstairs",
    ),
    "Furnace": (
        "No heat - furnace not igniting",
        "Furnace short cycling",
        "Burning smell when heat turns on",
        "Fall furnace safety check",
        "Loud banging at startup",
        "Pilot light won't stay lit",
    ),
    "Heat Pump": (
        "Heat pump frozen over",
        "Heat pump running constantly",
        "Aux heat stuck on",
        "Heat pump not switching to heat",
        "Spring maintenance visit",
        "Noisy outdoor unit",
    ),
    "Air Handler": (
        "Strange noise from blower",
        "Weak airflow from vents",
        "Drain line clogged",
        "Blower runs nonstop",
        "Musty smell from vents",
    ),
    "Boiler": (
        "Boiler pressure dropping",
        "Radiators not heating",
        "Boiler lockout code",
        "Annual boiler service",
        "Banging in the pipes",
    ),
    "Water Heater": (
        "No hot water",
        "Water heater leaking at base",
        "Hot water runs out fast",
        "Rumbling noise from tank",
        "Pilot keeps going out on water heater",
    ),
    "Ductless Mini-Split": (
        "Mini-split unit dripping water",
        "Mini-split not cooling bedroom",
        "Mini-split remote not responding",
        "Mini-split filter and coil cleaning",
    ),
    "": ("Thermostat not responding", "Annual maintenance visit", "Carbon monoxide alarm went off"),
}
TICKET_RESOLUTIONS: dict[str, tuple[str, ...]] = {
    "Central AC": (
        "Replaced run capacitor",
        "Replaced contactor",
        "Recharged R-410A and sealed leak at service valve",
        "Cleaned condenser coil; system cooling normally",
        "Replaced condenser fan motor",
        "Completed tune-up; no issues found",
    ),
    "Furnace": (
        "Cleaned flame sensor",
        "Replaced hot surface igniter",
        "Replaced inducer motor",
        "Completed safety check; no issues found",
        "Replaced pressure switch",
    ),
    "Heat Pump": (
        "Replaced defrost control board",
        "Replaced reversing valve solenoid",
        "Recharged refrigerant and tightened flare fittings",
        "Completed maintenance; no issues found",
    ),
    "Air Handler": (
        "Replaced blower motor",
        "Cleared condensate drain line",
        "Replaced blower capacitor",
        "Cleaned evaporator coil and replaced filter",
    ),
    "Boiler": (
        "Replaced expansion tank",
        "Bled radiators and restored pressure",
        "Replaced circulator pump",
        "Completed annual service",
    ),
    "Water Heater": (
        "Replaced thermocouple",
        "Flushed tank and replaced anode rod",
        "Replaced gas control valve",
        "Replaced T&P relief valve",
    ),
    "Ductless Mini-Split": (
        "Cleaned coil and drain pan",
        "Replaced remote and re-paired head unit",
        "Recharged refrigerant",
        "Cleared clogged condensate pump",
    ),
    "": (
        "Replaced thermostat",
        "Completed maintenance; no issues found",
        "Replaced batteries and reset",
    ),
}

# --- estimates ---------------------------------------------------------------------------
# kind -> [(title, low, high)] in dollars; "" is the no-equipment fallback (a new lead).
ESTIMATE_TITLES: dict[str, tuple[tuple[str, int, int], ...]] = {
    "Central AC": (
        ("Replace 3-ton AC + coil", 6800, 11800),
        ("Replace 4-ton AC + coil", 7800, 13500),
        ("AC replacement - 2.5-ton 16 SEER2", 5900, 9800),
        ("Condenser replacement - 5-ton", 5200, 8900),
    ),
    "Furnace": (
        ("Furnace replacement - 96% AFUE", 4200, 8900),
        ("Furnace replacement - 80% AFUE", 3200, 6200),
        ("Two-stage furnace upgrade", 5200, 9800),
    ),
    "Heat Pump": (
        ("Heat pump system - 3-ton 16 SEER2", 8500, 16500),
        ("Heat pump + air handler replacement", 9800, 18500),
        ("Dual-fuel heat pump conversion", 11000, 19500),
    ),
    "Air Handler": (
        ("Air handler replacement - variable speed", 3800, 7200),
        ("Air handler + coil replacement", 4500, 8200),
    ),
    "Boiler": (
        ("Boiler replacement - 95% AFUE", 9500, 18500),
        ("Combi boiler upgrade", 8800, 16500),
    ),
    "Water Heater": (
        ("Water heater replacement - 50 gal", 2100, 3600),
        ("Tankless water heater upgrade", 3800, 6900),
    ),
    "Ductless Mini-Split": (
        ("Ductless mini-split - 2 zones", 6500, 12500),
        ("Ductless mini-split - 4 zones", 11500, 19500),
        ("Mini-split for garage conversion", 3900, 6800),
    ),
    "": (
        ("Full system replacement - 4-ton AC + 80k BTU furnace", 12500, 24500),
        ("Complete heat pump system + ductwork", 14500, 25000),
        ("Replace 3-ton AC + coil", 6800, 11800),
        ("New construction HVAC - 2,400 sq ft", 13500, 22500),
        ("Duct replacement - attic", 4800, 9500),
    ),
}
COMMERCIAL_TITLES: tuple[tuple[str, int, int], ...] = (
    ("RTU replacement - 10-ton", 28000, 62000),
    ("Replace 3 rooftop units", 65000, 185000),
    ("Annual maintenance contract - 6 RTUs", 9000, 28000),
    ("Boiler plant upgrade", 45000, 160000),
    ("VRF system retrofit - second floor", 90000, 240000),
    ("Walk-in cooler condenser replacement", 15000, 38000),
    ("Make-up air unit replacement", 22000, 54000),
)
LOST_REASONS = (
    "Price too high",
    "Went with another contractor",
    "Decided to repair instead",
    "No response after proposal",
    "Financing not approved",
    "Postponing until next season",
    "Selling the house",
)

# --- customers and interactions ----------------------------------------------------------
NEXT_STEPS = (
    "Call back about heat pump quote",
    "Schedule site visit for AC replacement",
    "Send financing options",
    "Follow up on furnace estimate",
    "Confirm install date",
    "Check if HOA approved the new condenser",
    "Send maintenance plan pricing",
    "Call after 5pm - works days",
    "Follow up on rebate paperwork",
    "Book second opinion visit",
)
# Task titles by kind: what reps plan after a call (calls use NEXT_STEPS too).
TASK_TITLES = {
    "call": (
        *NEXT_STEPS,
        "Call to confirm the site visit",
        "Check in after the proposal",
        "Call back - asked for the morning",
    ),
    "email": (
        "Email the financing application",
        "Send the revised proposal",
        "Email rebate forms",
        "Send warranty details",
        "Email photos of the old unit to the installer",
    ),
    "meeting": (
        "Walk through the proposal",
        "Review options with both owners",
        "Go over the maintenance plan",
    ),
    "site_visit": (
        "Measure for the new system",
        "Load calculation visit",
        "Check duct sizing",
        "Inspect the attic air handler",
    ),
    "todo": (
        "Prepare the proposal",
        "Order the thermostat",
        "Check stock for the condenser",
        "Update the quote with the rebate",
        "Ask the office about permit timing",
    ),
}
TASK_NOTES = (
    "Prefers texts before calls.",
    "Both owners need to be there.",
    "Gate code is on the ticket.",
    "Asked about the utility rebate.",
    "Dog in the back yard.",
)
TOPICS = (
    "the heat pump quote",
    "AC replacement",
    "the maintenance plan",
    "a furnace tune-up",
    "financing options",
    "a tankless water heater",
    "the utility rebate",
    "a second opinion",
    "duct cleaning",
    "a smart thermostat",
    "the mini-split estimate",
    "install scheduling",
)
# (type, direction, outcome) -> note templates; {t} is a topic.
NOTE_TEMPLATES: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("call", "outbound", "connected"): (
        "Spoke with homeowner about {t}; wants a quote by Friday",
        "Reached customer re {t}. Interested, asked for two options",
        "Talked through {t}; spouse needs to weigh in, call back next week",
    ),
    ("call", "outbound", "voicemail"): (
        "Left voicemail about {t}",
        "Voicemail re {t}, asked for a call back",
    ),
    ("call", "outbound", "no_answer"): (
        "No answer, will try again tomorrow",
        "Rang out, no voicemail set up",
    ),
    ("call", "outbound", "wrong_number"): ("Wrong number - need updated phone",),
    ("call", "outbound", "not_interested"): (
        "Not interested in {t} right now",
        "Said they already have a contractor",
    ),
    ("call", "inbound", "connected"): (
        "Customer called asking about {t}",
        "Called in to ask about {t}; sent info by email",
        "Inbound call re {t}, booked a time to talk details",
    ),
    ("call", "inbound", "voicemail"): ("Customer left a voicemail about {t}",),
    ("email", "outbound", ""): (
        "Sent info on {t}",
        "Emailed follow-up about {t}",
        "Sent brochure and pricing for {t}",
    ),
    ("email", "inbound", ""): (
        "Customer emailed questions about {t}",
        "Reply: asked for more details on {t}",
    ),
    ("sms", "outbound", ""): (
        "Texted reminder about {t}",
        "Sent text to schedule a call about {t}",
    ),
    ("sms", "inbound", ""): (
        "Customer texted about {t}",
        "Text reply: works for them, asked about {t}",
    ),
    ("meeting", "outbound", ""): (
        "Site visit: measured the house, discussed {t}",
        "In-home consult about {t}; took photos of the unit",
    ),
    ("meeting", "inbound", ""): ("Customer came by the showroom to talk about {t}",),
}
CALL_OUTCOMES_OUT = (
    ("connected", 40),
    ("voicemail", 30),
    ("no_answer", 20),
    ("wrong_number", 3),
    ("not_interested", 7),
)
CALL_OUTCOMES_IN = (("connected", 85), ("voicemail", 15))
