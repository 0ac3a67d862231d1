"""Names and cities as offices in each language type them, and the code pages their Excel saves
CSV in. The fixtures of tests/fixtures/encodings are written from these rows
(tests/fixtures/make_encodings.py), and the property test of tests/test_encodings.py draws
its text from them: short realistic texts are where encoding detectors fail.
"""

from __future__ import annotations

import unicodedata

# language -> (first name, last name, city) rows, in the language's own letters
PEOPLE: dict[str, tuple[tuple[str, str, str], ...]] = {
    "pl": (("Łucja", "Żółkiewska", "Łódź"), ("Grzegorz", "Brzęczyszczykiewicz", "Kraków"),
           ("Małgorzata", "Wiśniewska", "Gdańsk"), ("Józef", "Szczęsny", "Białystok")),
    "cs": (("Jiří", "Dvořák", "Plzeň"), ("Růžena", "Šťastná", "Brno"),
           ("Tomáš", "Černý", "České Budějovice"), ("Kateřina", "Novotná", "Ústí nad Labem")),
    "hu": (("Zsófia", "Kovács", "Győr"), ("Ödön", "Szűcs", "Pécs"),
           ("Erzsébet", "Tóth", "Székesfehérvár"), ("Gergő", "Horváth", "Debrecen")),
    "ro": (("Ștefan", "Popescu", "Timișoara"), ("Ioana", "Țărănescu", "Brașov"),
           ("Mădălina", "Dumitrescu", "Iași"), ("Răzvan", "Constantinescu", "Constanța")),
    "ru": (("Юлия", "Соколова", "Москва"), ("Дмитрий", "Кузнецов", "Санкт-Петербург"),
           ("Анастасия", "Смирнова", "Екатеринбург"), ("Сергей", "Волков", "Новосибирск")),
    "uk": (("Олена", "Ковальчук", "Київ"), ("Тарас", "Шевченко", "Львів"),
           ("Ірина", "Бондаренко", "Дніпро"), ("Євген", "Ґудзь", "Запоріжжя")),
    "bg": (("Стефан", "Георгиев", "София"), ("Мария", "Иванова", "Пловдив"),
           ("Пламен", "Стоянов", "Варна"), ("Йорданка", "Петрова", "Бургас")),
    "el": (("Ελένη", "Παπαδοπούλου", "Αθήνα"), ("Γιώργος", "Νικολάου", "Θεσσαλονίκη"),
           ("Κατερίνα", "Δημητρίου", "Πάτρα"), ("Δημήτρης", "Οικονόμου", "Ηράκλειο")),
    "tr": (("Ayşe", "Yılmaz", "İstanbul"), ("Çağrı", "Öztürk", "Eskişehir"),
           ("Gülşen", "Şahin", "Muğla"), ("İbrahim", "Doğan", "Diyarbakır")),
    "he": (("שרה", "כהן", "תל אביב"), ("יוסף", "לוי", "ירושלים"),
           ("מיכל", "מזרחי", "חיפה"), ("דוד", "פרץ", "באר שבע")),
    "ar": (("محمد", "العلي", "الرياض"), ("فاطمة", "الحسن", "القاهرة"),
           ("أحمد", "منصور", "عمّان"), ("ليلى", "حداد", "بيروت")),
    "lt": (("Žydrūnas", "Kazlauskas", "Šiauliai"), ("Rūta", "Jankauskienė", "Kaunas"),
           ("Vytautas", "Petrauskas", "Klaipėda"), ("Aušra", "Žukauskaitė", "Panevėžys")),
    "lv": (("Jānis", "Bērziņš", "Rīga"), ("Līga", "Kalniņa", "Liepāja"),
           ("Andris", "Ozoliņš", "Daugavpils"), ("Ilze", "Krūmiņa", "Jūrmala")),
    "et": (("Jüri", "Tamm", "Tartu"), ("Kärt", "Saar", "Pärnu"),
           ("Tõnu", "Mägi", "Võru"), ("Mari-Liis", "Õunapuu", "Jõhvi")),
    "vi": (("Nguyễn", "Văn An", "Hà Nội"), ("Trần", "Thị Bích", "Đà Nẵng"),
           ("Lê", "Quốc Hùng", "Huế"), ("Phạm", "Thu Hương", "Hải Phòng")),
    "th": (("สมชาย", "ใจดี", "กรุงเทพมหานคร"), ("สุดารัตน์", "ศรีสุข", "เชียงใหม่"),
           ("ประเสริฐ", "วงศ์สวัสดิ์", "ขอนแก่น"), ("นภา", "แก้วมณี", "ภูเก็ต")),
    "ja": (("裕子", "佐藤", "東京都"), ("健太", "鈴木", "大阪市"),
           ("さくら", "高橋", "札幌市"), ("翔太", "田中", "福岡市")),
    "zh-hans": (("伟", "王", "北京"), ("秀英", "李", "上海"),
                ("建华", "张", "广州"), ("丽娟", "刘", "成都")),
    "zh-hant": (("志明", "陳", "臺北市"), ("淑芬", "林", "高雄市"),
                ("俊傑", "黃", "臺中市"), ("美玲", "張", "新竹市")),
    "ko": (("민준", "김", "서울"), ("서연", "이", "부산"),
           ("지훈", "박", "대구"), ("수빈", "최", "인천")),
    "de": (("Günther", "Schäfer", "München"), ("Jürgen", "Weiß", "Düsseldorf"),
           ("Käthe", "Müller", "Lüneburg"), ("Björn", "Großmann", "Köln")),
    "fr": (("Élodie", "Lefèvre", "Besançon"), ("François", "Dupré", "Orléans"),
           ("Hélène", "Bézier", "Nîmes"), ("Zoë", "Cœur", "Sèvres")),
    "es": (("José", "Muñoz", "Málaga"), ("Begoña", "Peñalver", "Cádiz"),
           ("Ángel", "Ibáñez", "Logroño"), ("Lucía", "Gómez", "Córdoba")),
    "is": (("Þórunn", "Sigurðardóttir", "Reykjavík"), ("Guðmundur", "Jónsson", "Akureyri"),
           ("Ásdís", "Ólafsdóttir", "Hafnarfjörður"), ("Sæmundur", "Þórðarson", "Ísafjörður")),
    "no": (("Søren", "Ødegård", "Tromsø"), ("Åse", "Bråten", "Bodø"),
           ("Øystein", "Sæther", "Ålesund"), ("Gjertrud", "Løvås", "Lillehammer")),
    "mt": (("Ġużeppi", "Borġ", "Ħamrun"), ("Marija", "Żammit", "Għajnsielem"),
           ("Ċensu", "Camilleri", "Żebbuġ"), ("Rita", "Ħili", "Birżebbuġa")),
    "cy": (("Siân", "Wŷn", "Caerdydd"), ("Dafydd", "Ŵatcyn", "Aberystwyth"),
           ("Ŷwain", "Huws", "Llŷn"), ("Gwenllian", "Prŷs", "Bangor")),
}

# code page -> (Python codec, languages written in it). Excel on Windows saves "CSV" in the
# system's ANSI code page; the others are what Unix exports, old Macs and mail systems give.
CODEPAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "cp874": ("cp874", ("th",)),
    "cp1250": ("cp1250", ("pl", "cs", "hu")),
    "cp1251": ("cp1251", ("ru", "uk", "bg")),
    "cp1252": ("cp1252", ("de", "fr", "es")),
    "cp1253": ("cp1253", ("el",)),
    "cp1254": ("cp1254", ("tr",)),
    "cp1255": ("cp1255", ("he",)),
    "cp1256": ("cp1256", ("ar",)),
    "cp1257": ("cp1257", ("lt", "lv", "et")),
    "cp1258": ("cp1258", ("vi",)),
    "cp932": ("cp932", ("ja",)),
    "cp936": ("gbk", ("zh-hans",)),
    "cp949": ("cp949", ("ko",)),
    "cp950": ("cp950", ("zh-hant",)),
    "iso-8859-1": ("latin-1", ("de", "es", "is")),
    "iso-8859-2": ("iso8859-2", ("pl", "cs", "hu")),
    "iso-8859-3": ("iso8859-3", ("mt",)),
    "iso-8859-4": ("iso8859-4", ("lt", "lv", "et")),
    "iso-8859-5": ("iso8859-5", ("ru", "bg")),
    "iso-8859-6": ("iso8859-6", ("ar",)),
    "iso-8859-7": ("iso8859-7", ("el",)),
    "iso-8859-8": ("iso8859-8", ("he",)),
    "iso-8859-9": ("iso8859-9", ("tr",)),
    "iso-8859-10": ("iso8859-10", ("no", "is")),
    "iso-8859-11": ("iso8859-11", ("th",)),
    "iso-8859-13": ("iso8859-13", ("lt", "lv", "pl")),
    "iso-8859-14": ("iso8859-14", ("cy",)),
    "iso-8859-15": ("iso8859-15", ("fr", "de", "es")),
    "iso-8859-16": ("iso8859-16", ("ro", "pl")),
    "koi8-r": ("koi8-r", ("ru",)),
    "koi8-u": ("koi8-u", ("uk",)),
    "euc-jp": ("euc-jp", ("ja",)),
    "euc-kr": ("euc-kr", ("ko",)),
    "gb18030": ("gb18030", ("zh-hans",)),
    "big5": ("big5", ("zh-hant",)),
    "mac-roman": ("mac-roman", ("de", "fr", "es")),
}


def rows_of(codepage: str) -> list[tuple[str, str, str, str]]:
    """(first, last, email, city) rows of every language the code page writes."""
    rows = []
    for lang in CODEPAGES[codepage][1]:
        for n, (first, last, city) in enumerate(PEOPLE[lang], 1):
            rows.append((first, last, f"{lang}.{n}@example.com", city))
    return rows


def encode(text: str, codec: str) -> bytes:
    """The bytes a program writes: cp1258 (Vietnamese) has no precomposed letter for most tone
    marks, so Windows writes the letter and a combining mark."""
    if codec != "cp1258":
        return text.encode(codec)
    out = bytearray()
    for char in text:
        try:
            out += char.encode(codec)
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", char)
            for mark in marks:  # the letter with all marks but one, then that one
                head = unicodedata.normalize("NFC", base + "".join(m for m in marks if m != mark))
                try:
                    out += head.encode(codec) + mark.encode(codec)
                    break
                except UnicodeEncodeError:
                    continue
            else:
                raise
    return bytes(out)


def csv_text(codepage: str, delimiter: str = ",") -> str:
    lines = [delimiter.join(("First Name", "Last Name", "Email", "City"))]
    lines += [delimiter.join(row) for row in rows_of(codepage)]
    return "\r\n".join(lines) + "\r\n"
