"""The words offices type as column headers, in every language Microsoft 365 ships. Data only;
``fields.py`` reads it, and ``detect_language`` says which language a header row is written in.

One row per word: ``language  meaning  header``. The language is a BCP 47 tag (``pl``,
``zh-Hans``, ``pt-BR``, ``sr-Latn``); the header is written as an office writes it (it is folded
before it is compared, as every header is: case, accents, full-width letters and punctuation do
not count). The meaning is one of:

- a customer field (``firstName``, ``emailAddress``, ``phone.mobile``, ``business.city`` ...):
  the whole header means that field;
- an address part (``street``, ``street2``, ``city``, ``state``, ``postalCode``,
  ``countryOrRegion``, ``postOfficeBox``): a home address part alone, and with a qualifier
  ("Ulica (biuro)") the part of that address;
- a phone word (``phone``, ``mobile``, ``fax``, ``pager``): a phone, typed by its qualifier;
- a qualifier (``+home``, ``+business``, ``+other``): whose address or phone a header is;
- ``nameLastFirst``: one column holding "Family, Given" ("Name, Vorname").

A meaning ending in ``?`` holds only in a sheet written in that language: a short word that is
another word elsewhere (Turkish "Ad" is the given name, an English "Ad" column the
advertisement; Danish "By" is the town).

A header that means one thing in one language and another in a second (Catalan "Nom" is the
given name, French "Nom" the family name) is read by the language the rest of the sheet is
written in. To teach a new word, add its row; a test checks each language's words.
"""

from __future__ import annotations

# The languages a row may name, as a person reads them.
LANGUAGES: dict[str, str] = {
    "ar": "Arabic", "bg": "Bulgarian", "ca": "Catalan", "zh-Hans": "Chinese (Simplified)",
    "zh-Hant": "Chinese (Traditional)", "hr": "Croatian", "cs": "Czech", "da": "Danish",
    "nl": "Dutch", "en": "English", "et": "Estonian", "fi": "Finnish", "fr": "French",
    "de": "German", "el": "Greek", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian",
    "id": "Indonesian", "it": "Italian", "ja": "Japanese", "kk": "Kazakh", "ko": "Korean",
    "lv": "Latvian", "lt": "Lithuanian", "ms": "Malay", "nb": "Norwegian", "pl": "Polish",
    "pt-BR": "Portuguese (Brazil)", "pt-PT": "Portuguese (Portugal)", "ro": "Romanian",
    "ru": "Russian", "sr-Latn": "Serbian (Latin)", "sr-Cyrl": "Serbian (Cyrillic)",
    "sk": "Slovak", "sl": "Slovenian", "es": "Spanish", "sv": "Swedish", "th": "Thai",
    "tr": "Turkish", "uk": "Ukrainian", "vi": "Vietnamese",
}

# Languages that write the family name before the given name.
FAMILY_FIRST = frozenset({"ja", "zh-Hans", "zh-Hant", "ko", "hu", "vi"})

WORDS = """
en  firstName        First name
en  lastName         Last name
en  displayName      Full name
en  companyName      Company
en  emailAddress     Email
en  phone.mobile     Mobile
en  phone.home       Home phone
en  phone.business   Work phone
en  phone            Phone
en  street           Street
en  postalCode       Postal code
en  postalCode       ZIP
en  city             City
en  state            State
en  countryOrRegion  Country
en  nameLastFirst    Last, First
en  nameLastFirst    Last name, first name
en  nameLastFirst    Surname, first name

de  firstName        Vorname
de  lastName         Nachname
de  displayName      Vollständiger Name
de  companyName      Firma
de  emailAddress     E-Mail-Adresse
de  phone.mobile     Handy
de  phone.mobile     Mobiltelefon
de  phone            Telefon
de  street           Straße
de  postalCode       PLZ
de  city             Ort
de  state            Bundesland
de  countryOrRegion  Land
de  +home            privat
de  +business        geschäftlich
de  nameLastFirst    Name, Vorname
de  nameLastFirst    Nachname, Vorname

fr  firstName        Prénom
fr  lastName         Nom
fr  displayName      Nom complet
fr  companyName      Société
fr  emailAddress     Courriel
fr  emailAddress     Adresse e-mail
fr  phone.mobile     Portable
fr  phone            Téléphone
fr  street           Rue
fr  postalCode       Code postal
fr  city             Ville
fr  state            Région
fr  countryOrRegion  Pays
fr  +home            domicile
fr  +business        bureau
fr  nameLastFirst    Nom, Prénom

es  firstName        Nombre
es  lastName         Apellidos
es  displayName      Nombre completo
es  companyName      Empresa
es  emailAddress     Correo electrónico
es  phone.mobile     Móvil
es  phone            Teléfono
es  street           Dirección
es  street           Calle
es  postalCode       Código postal
es  city             Ciudad
es  state            Provincia
es  countryOrRegion  País
es  countryOrRegion  País o región
es  state            Provincia o estado
es  phone.home       Particular
es  +home            domicilio
es  +business        trabajo
es  +other           otra
es  nameLastFirst    Apellidos, Nombre
es  nameLastFirst    Apellido, Nombre

nl  firstName        Voornaam
nl  lastName         Achternaam
nl  displayName      Volledige naam
nl  companyName      Bedrijf
nl  emailAddress     E-mailadres
nl  phone.mobile     Mobiel
nl  phone            Telefoon
nl  street           Straat
nl  postalCode       Postcode
nl  city             Plaats
nl  state            Provincie
nl  countryOrRegion  Land/regio
nl  +home            thuis
nl  +home            huisadres
nl  +business        werk
nl  +business        werkadres
nl  +other           ander adres
nl  +other           anders
nl  phone.business   Hoofdtelefoon bedrijf
nl  phone.other      Hoofdtelefoon
nl  phone.mobile     Autotelefoon
nl  phone.other      Terugbellen
nl  phone.radio      Radiotelefoon
nl  phone.other      Teksttelefoon
nl  phone.assistant  Telefoon assistent
nl  postOfficeBox    Postbusnummer
nl  nameLastFirst    Achternaam, Voornaam

it  firstName        Nome
it  lastName         Cognome
it  displayName      Nome e cognome
it  companyName      Azienda
it  companyName      Società
it  emailAddress     Indirizzo email
it  phone.mobile     Cellulare
it  phone            Telefono
it  street           Indirizzo
it  street           Via
it  postalCode       CAP
it  city             Città
it  state            Provincia
it  countryOrRegion  Paese
it  countryOrRegion  Nazione/Regione
it  +home            casa
it  +business        lavoro
it  +home            residenza
it  +other           altro
it  phone.mobile     Telefono mobile
it  phone.mobile     Numero cellulare
it  nameLastFirst    Cognome, Nome

pt-BR  firstName        Primeiro nome
pt-BR  firstName        Nome
pt-BR  lastName         Sobrenome
pt-BR  lastName         Último nome
pt-BR  displayName      Nome completo
pt-BR  companyName      Empresa
pt-BR  emailAddress     E-mail
pt-BR  emailAddress     Endereço de e-mail
pt-BR  phone.mobile     Celular
pt-BR  phone            Telefone
pt-BR  phone            Fone
pt-BR  street           Endereço
pt-BR  street           Rua
pt-BR  street           Logradouro
pt-BR  street2          Complemento
pt-BR  postalCode       CEP
pt-BR  city             Cidade
pt-BR  state            Estado
pt-BR  state            UF
pt-BR  countryOrRegion  País
pt-BR  countryOrRegion  Região/País
pt-BR  +home            casa
pt-BR  +business        comercial
pt-BR  +business        trabalho
pt-BR  +other           outro
pt-BR  +other           outra
pt-BR  nameLastFirst    Sobrenome, Nome

pt-PT  firstName        Nome próprio
pt-PT  lastName         Apelido
pt-PT  displayName      Nome completo
pt-PT  companyName      Empresa
pt-PT  emailAddress     Correio eletrónico
pt-PT  phone.mobile     Telemóvel
pt-PT  phone            Telefone
pt-PT  street           Morada
pt-PT  postalCode       Código postal
pt-PT  city             Localidade
pt-PT  state            Distrito
pt-PT  countryOrRegion  País
pt-PT  nameLastFirst    Apelido, Nome

ca  firstName        Nom
ca  lastName         Cognoms
ca  lastName         Cognom
ca  displayName      Nom complet
ca  displayName      Nom i cognoms
ca  companyName      Empresa
ca  emailAddress     Correu electrònic
ca  emailAddress     Adreça electrònica
ca  phone.mobile     Mòbil
ca  phone.mobile     Telèfon mòbil
ca  phone            Telèfon
ca  street           Adreça
ca  street           Carrer
ca  postalCode       Codi postal
ca  city             Població
ca  city             Ciutat
ca  state            Província
ca  countryOrRegion  País
ca  nameLastFirst    Cognoms, Nom

sv  firstName        Förnamn
sv  lastName         Efternamn
sv  displayName      Namn
sv  displayName      Fullständigt namn
sv  companyName      Företag
sv  emailAddress     E-postadress
sv  emailAddress     E-post
sv  phone.mobile     Mobiltelefon
sv  phone.mobile     Mobil
sv  phone.mobile     Mobilnummer
sv  phone.home       Hemtelefon
sv  phone.business   Arbetstelefon
sv  phone            Telefon
sv  phone            Telefonnummer
sv  street           Gatuadress
sv  street           Adress
sv  postalCode       Postnummer
sv  city             Ort
sv  city             Postort
sv  city             Stad
sv  state            Län
sv  countryOrRegion  Land/region
sv  +home            hem
sv  +business        arbete
sv  +other           annan
sv  nameLastFirst    Efternamn, förnamn

da  firstName        Fornavn
da  lastName         Efternavn
da  displayName      Navn
da  displayName      Fulde navn
da  companyName      Firma
da  companyName      Virksomhed
da  emailAddress     E-mailadresse
da  emailAddress     E-mail
da  phone.mobile     Mobiltelefon
da  phone.mobile     Mobil
da  phone.home       Telefon (privat)
da  phone.business   Telefon (arbejde)
da  phone            Telefon
da  phone            Telefonnummer
da  street           Adresse
da  street           Vejnavn
da  postalCode       Postnummer
da  postalCode       Postnr.
da  city?            By
da  state            Region
da  countryOrRegion  Land
da  +home            hjem
da  +business        arbejde
da  nameLastFirst    Efternavn, fornavn

nb  firstName        Fornavn
nb  lastName         Etternavn
nb  displayName      Navn
nb  displayName      Fullt navn
nb  companyName      Firma
nb  companyName      Bedrift
nb  emailAddress     E-postadresse
nb  emailAddress     E-post
nb  phone.mobile     Mobiltelefon
nb  phone.mobile     Mobil
nb  phone.home       Telefon hjem
nb  phone.business   Telefon arbeid
nb  phone            Telefon
nb  phone            Telefonnummer
nb  street           Adresse
nb  street           Gateadresse
nb  postalCode       Postnummer
nb  city             Poststed
nb  city             Sted
nb  state            Fylke
nb  countryOrRegion  Land
nb  +business        arbeid
nb  nameLastFirst    Etternavn, fornavn

fi  firstName        Etunimi
fi  lastName         Sukunimi
fi  displayName      Nimi
fi  displayName      Koko nimi
fi  companyName      Yritys
fi  emailAddress     Sähköposti
fi  emailAddress     Sähköpostiosoite
fi  phone.mobile     Matkapuhelin
fi  phone.mobile     Kännykkä
fi  phone.home       Kotipuhelin
fi  phone.business   Työpuhelin
fi  phone            Puhelin
fi  phone            Puhelinnumero
fi  street           Katuosoite
fi  street           Osoite
fi  postalCode       Postinumero
fi  city             Postitoimipaikka
fi  city             Kaupunki
fi  city             Paikkakunta
fi  state            Maakunta
fi  countryOrRegion  Maa
fi  countryOrRegion  Maa/alue
fi  nameLastFirst    Sukunimi, etunimi

et  firstName        Eesnimi
et  lastName         Perekonnanimi
et  lastName         Perenimi
et  displayName      Nimi
et  displayName      Täisnimi
et  companyName      Ettevõte
et  emailAddress     E-post
et  emailAddress     E-posti aadress
et  phone.mobile     Mobiiltelefon
et  phone.mobile     Mobiil
et  phone.home       Kodutelefon
et  phone.business   Töötelefon
et  phone            Telefon
et  street           Aadress
et  street           Tänav
et  postalCode       Sihtnumber
et  city             Linn
et  city             Asula
et  state            Maakond
et  countryOrRegion  Riik
et  nameLastFirst    Perekonnanimi, eesnimi

lv  firstName        Vārds
lv  lastName         Uzvārds
lv  displayName      Vārds, uzvārds
lv  displayName      Pilns vārds
lv  companyName      Uzņēmums
lv  emailAddress     E-pasts
lv  emailAddress     E-pasta adrese
lv  phone.mobile     Mobilais tālrunis
lv  phone.mobile     Mobilais
lv  phone.home       Mājas tālrunis
lv  phone.business   Darba tālrunis
lv  phone            Tālrunis
lv  phone            Telefons
lv  street           Adrese
lv  street           Iela
lv  postalCode       Pasta indekss
lv  city             Pilsēta
lv  state            Novads
lv  countryOrRegion  Valsts
lv  nameLastFirst    Uzvārds, vārds

lt  firstName        Vardas
lt  lastName         Pavardė
lt  displayName      Vardas, pavardė
lt  displayName      Vardas ir pavardė
lt  companyName      Įmonė
lt  emailAddress     El. paštas
lt  emailAddress     El. pašto adresas
lt  phone.mobile     Mobilusis telefonas
lt  phone.mobile     Mobilusis
lt  phone.home       Namų telefonas
lt  phone.business   Darbo telefonas
lt  phone            Telefonas
lt  street           Adresas
lt  street           Gatvė
lt  postalCode       Pašto kodas
lt  city             Miestas
lt  state            Apskritis
lt  countryOrRegion  Šalis
lt  nameLastFirst    Pavardė, vardas

pl  firstName        Imię
pl  lastName         Nazwisko
pl  displayName      Imię i nazwisko
pl  companyName      Firma
pl  companyName      Nazwa firmy
pl  emailAddress     Adres e-mail
pl  emailAddress     E-mail
pl  phone.mobile     Telefon komórkowy
pl  phone.mobile     Komórka
pl  phone.home       Telefon domowy
pl  phone.business   Telefon służbowy
pl  phone.other      Telefon główny
pl  phone            Telefon
pl  phone            Nr telefonu
pl  fax              Faks
pl  street           Ulica
pl  street           Adres
pl  postalCode       Kod pocztowy
pl  city             Miasto
pl  city             Miejscowość
pl  state            Województwo
pl  countryOrRegion  Kraj
pl  countryOrRegion  Kraj/region
pl  +home            dom
pl  +home            domowy
pl  +business        biuro
pl  +business        służbowy
pl  +business        służbowa
pl  nameLastFirst    Nazwisko, imię

cs  firstName        Jméno
cs  lastName         Příjmení
cs  displayName      Celé jméno
cs  displayName      Jméno a příjmení
cs  companyName      Společnost
cs  companyName      Firma
cs  emailAddress     E-mailová adresa
cs  emailAddress     E-mail
cs  phone.mobile     Mobilní telefon
cs  phone.mobile     Mobil
cs  phone.home       Telefon domů
cs  phone.business   Telefon do zaměstnání
cs  phone            Telefon
cs  street           Ulice
cs  street           Adresa
cs  postalCode       PSČ
cs  city             Město
cs  city             Obec
cs  state            Kraj
cs  countryOrRegion  Země
cs  countryOrRegion  Země/oblast
cs  nameLastFirst    Příjmení, jméno

sk  firstName        Meno
sk  lastName         Priezvisko
sk  displayName      Celé meno
sk  displayName      Meno a priezvisko
sk  companyName      Spoločnosť
sk  emailAddress     E-mailová adresa
sk  phone.mobile     Mobilný telefón
sk  phone.mobile     Mobil
sk  phone.home       Telefón domov
sk  phone.business   Telefón do práce
sk  phone            Telefón
sk  street           Ulica
sk  street           Adresa
sk  postalCode       PSČ
sk  city             Mesto
sk  city             Obec
sk  state            Kraj
sk  countryOrRegion  Krajina
sk  countryOrRegion  Krajina/oblasť
sk  nameLastFirst    Priezvisko, meno

sl  firstName        Ime
sl  lastName         Priimek
sl  displayName      Ime in priimek
sl  displayName      Polno ime
sl  companyName      Podjetje
sl  emailAddress     E-poštni naslov
sl  emailAddress     E-pošta
sl  phone.mobile     Mobilni telefon
sl  phone.mobile     Prenosni telefon
sl  phone.home       Domači telefon
sl  phone.business   Službeni telefon
sl  phone            Telefon
sl  street           Naslov
sl  street           Ulica
sl  postalCode       Poštna številka
sl  city             Kraj
sl  city             Mesto
sl  state            Regija
sl  countryOrRegion  Država
sl  nameLastFirst    Priimek, ime

hr  firstName        Ime
hr  lastName         Prezime
hr  displayName      Ime i prezime
hr  displayName      Puno ime
hr  companyName      Tvrtka
hr  emailAddress     Adresa e-pošte
hr  emailAddress     E-pošta
hr  phone.mobile     Mobitel
hr  phone.mobile     Mobilni telefon
hr  phone.home       Telefon kod kuće
hr  phone.business   Poslovni telefon
hr  phone            Telefon
hr  street           Adresa
hr  street           Ulica
hr  postalCode       Poštanski broj
hr  city             Grad
hr  city             Mjesto
hr  state            Županija
hr  countryOrRegion  Država
hr  nameLastFirst    Prezime, ime

sr-Latn  firstName        Ime
sr-Latn  lastName         Prezime
sr-Latn  displayName      Ime i prezime
sr-Latn  companyName      Preduzeće
sr-Latn  companyName      Firma
sr-Latn  emailAddress     E-adresa
sr-Latn  emailAddress     Imejl
sr-Latn  phone.mobile     Mobilni telefon
sr-Latn  phone.mobile     Mobilni
sr-Latn  phone.home       Kućni telefon
sr-Latn  phone.business   Poslovni telefon
sr-Latn  phone            Telefon
sr-Latn  street           Adresa
sr-Latn  street           Ulica
sr-Latn  postalCode       Poštanski broj
sr-Latn  city             Grad
sr-Latn  city             Mesto
sr-Latn  state            Okrug
sr-Latn  countryOrRegion  Država
sr-Latn  nameLastFirst    Prezime, ime

sr-Cyrl  firstName        Име
sr-Cyrl  lastName         Презиме
sr-Cyrl  displayName      Име и презиме
sr-Cyrl  companyName      Предузеће
sr-Cyrl  companyName      Фирма
sr-Cyrl  emailAddress     Е-адреса
sr-Cyrl  emailAddress     Имејл
sr-Cyrl  phone.mobile     Мобилни телефон
sr-Cyrl  phone.mobile     Мобилни
sr-Cyrl  phone.home       Кућни телефон
sr-Cyrl  phone.business   Пословни телефон
sr-Cyrl  phone            Телефон
sr-Cyrl  street           Адреса
sr-Cyrl  street           Улица
sr-Cyrl  postalCode       Поштански број
sr-Cyrl  city             Град
sr-Cyrl  city             Место
sr-Cyrl  state            Округ
sr-Cyrl  countryOrRegion  Држава
sr-Cyrl  nameLastFirst    Презиме, име

bg  firstName        Име
bg  firstName        Собствено име
bg  lastName         Фамилия
bg  lastName         Фамилно име
bg  displayName      Име и фамилия
bg  displayName      Пълно име
bg  companyName      Фирма
bg  companyName      Компания
bg  emailAddress     Имейл
bg  emailAddress     Имейл адрес
bg  phone.mobile     Мобилен телефон
bg  phone.mobile     Мобилен
bg  phone.home       Домашен телефон
bg  phone.business   Служебен телефон
bg  phone            Телефон
bg  street           Адрес
bg  street           Улица
bg  postalCode       Пощенски код
bg  city             Град
bg  city             Населено място
bg  state            Област
bg  countryOrRegion  Държава
bg  nameLastFirst    Фамилия, име

ru  firstName        Имя
ru  lastName         Фамилия
ru  middleName       Отчество
ru  displayName      ФИО
ru  displayName      Ф.И.О.
ru  displayName      Полное имя
ru  companyName      Организация
ru  companyName      Компания
ru  emailAddress     Электронная почта
ru  emailAddress     Адрес электронной почты
ru  emailAddress     Эл. почта
ru  phone.mobile     Мобильный телефон
ru  phone.mobile     Мобильный
ru  phone.mobile     Сотовый телефон
ru  phone.home       Домашний телефон
ru  phone.business   Рабочий телефон
ru  phone            Телефон
ru  street           Адрес
ru  street           Улица
ru  postalCode       Индекс
ru  postalCode       Почтовый индекс
ru  city             Город
ru  city             Населённый пункт
ru  state            Область
ru  state            Регион
ru  countryOrRegion  Страна
ru  +business        раб
ru  nameLastFirst    Фамилия, имя

uk  firstName        Ім'я
uk  lastName         Прізвище
uk  middleName       По батькові
uk  displayName      ПІБ
uk  displayName      Повне ім'я
uk  companyName      Компанія
uk  companyName      Організація
uk  emailAddress     Електронна пошта
uk  emailAddress     Адреса електронної пошти
uk  phone.mobile     Мобільний телефон
uk  phone.mobile     Мобільний
uk  phone.home       Домашній телефон
uk  phone.business   Робочий телефон
uk  phone            Телефон
uk  street           Адреса
uk  street           Вулиця
uk  postalCode       Індекс
uk  postalCode       Поштовий індекс
uk  city             Місто
uk  city             Населений пункт
uk  state            Область
uk  countryOrRegion  Країна
uk  nameLastFirst    Прізвище, ім'я

kk  firstName        Аты
kk  lastName         Тегі
kk  middleName       Әкесінің аты
kk  displayName      Аты-жөні
kk  displayName      Толық аты
kk  companyName      Компания
kk  emailAddress     Электрондық пошта
kk  emailAddress     Эл. пошта
kk  phone.mobile     Ұялы телефон
kk  phone.home       Үй телефоны
kk  phone.business   Жұмыс телефоны
kk  phone            Телефон
kk  street           Мекенжай
kk  street           Көше
kk  postalCode       Пошта индексі
kk  city             Қала
kk  state            Облыс
kk  countryOrRegion  Ел
kk  nameLastFirst    Тегі, аты

el  firstName        Όνομα
el  lastName         Επώνυμο
el  displayName      Ονοματεπώνυμο
el  displayName      Πλήρες όνομα
el  companyName      Εταιρεία
el  emailAddress     Ηλεκτρονικό ταχυδρομείο
el  emailAddress     Διεύθυνση ηλεκτρονικού ταχυδρομείου
el  phone.mobile     Κινητό
el  phone.mobile     Κινητό τηλέφωνο
el  phone.home       Τηλέφωνο οικίας
el  phone.business   Τηλέφωνο εργασίας
el  phone            Τηλέφωνο
el  street           Διεύθυνση
el  street           Οδός
el  postalCode       Ταχυδρομικός κώδικας
el  postalCode       Τ.Κ.
el  city             Πόλη
el  state            Νομός
el  state            Περιφέρεια
el  countryOrRegion  Χώρα
el  nameLastFirst    Επώνυμο, όνομα

tr  firstName?       Ad
tr  firstName        Adı
tr  lastName         Soyad
tr  lastName         Soyadı
tr  displayName      Ad Soyad
tr  displayName      Adı Soyadı
tr  displayName      Tam ad
tr  companyName      Şirket
tr  companyName      Firma
tr  emailAddress     E-posta
tr  emailAddress     E-posta adresi
tr  phone.mobile     Cep telefonu
tr  phone.mobile     Cep
tr  phone.mobile     GSM
tr  phone.home       Ev telefonu
tr  phone.business   İş telefonu
tr  phone            Telefon
tr  street           Adres
tr  street           Sokak
tr  postalCode       Posta kodu
tr  city             Şehir
tr  state?           İl
tr  city             İlçe
tr  countryOrRegion  Ülke
tr  nameLastFirst    Soyadı, adı

hu  firstName        Keresztnév
hu  firstName        Utónév
hu  lastName         Vezetéknév
hu  lastName         Családnév
hu  displayName      Név
hu  displayName      Teljes név
hu  companyName      Cég
hu  companyName      Vállalat
hu  emailAddress     E-mail-cím
hu  emailAddress     E-mail cím
hu  phone.mobile     Mobiltelefon
hu  phone.mobile     Mobil
hu  phone.home       Otthoni telefon
hu  phone.business   Munkahelyi telefon
hu  phone            Telefon
hu  phone            Telefonszám
hu  street           Cím
hu  street           Utca
hu  street           Utca, házszám
hu  postalCode       Irányítószám
hu  city             Város
hu  city             Település
hu  state            Megye
hu  countryOrRegion  Ország
hu  +home            otthoni
hu  +business        munkahelyi
hu  nameLastFirst    Vezetéknév, keresztnév

ro  firstName        Prenume
ro  lastName         Nume
ro  lastName         Nume de familie
ro  displayName      Nume complet
ro  displayName      Nume și prenume
ro  companyName      Companie
ro  companyName      Firmă
ro  emailAddress     Adresă de e-mail
ro  emailAddress     E-mail
ro  phone.mobile     Telefon mobil
ro  phone.mobile     Mobil
ro  phone.home       Telefon acasă
ro  phone.business   Telefon serviciu
ro  phone            Telefon
ro  street           Adresă
ro  street           Stradă
ro  postalCode       Cod poștal
ro  city             Oraș
ro  city             Localitate
ro  state            Județ
ro  countryOrRegion  Țară
ro  nameLastFirst    Nume, prenume

id  firstName        Nama depan
id  lastName         Nama belakang
id  displayName      Nama
id  displayName      Nama lengkap
id  companyName      Perusahaan
id  emailAddress     Email
id  emailAddress     Alamat email
id  phone.mobile     Ponsel
id  phone.mobile     No. HP
id  phone.mobile     Nomor HP
id  phone.mobile?    HP
id  phone.home       Telepon rumah
id  phone.business   Telepon kantor
id  phone            Telepon
id  phone            Nomor telepon
id  street           Alamat
id  street           Jalan
id  postalCode       Kode pos
id  city             Kota
id  state            Provinsi
id  countryOrRegion  Negara
id  nameLastFirst    Nama belakang, nama depan

ms  firstName        Nama pertama
ms  lastName         Nama akhir
ms  lastName         Nama keluarga
ms  displayName      Nama
ms  displayName      Nama penuh
ms  companyName      Syarikat
ms  emailAddress     E-mel
ms  emailAddress     Alamat e-mel
ms  phone.mobile     Telefon bimbit
ms  phone.mobile     No. telefon bimbit
ms  phone.home       Telefon rumah
ms  phone.business   Telefon pejabat
ms  phone            Telefon
ms  phone            No. telefon
ms  street           Alamat
ms  street           Jalan
ms  postalCode       Poskod
ms  city             Bandar
ms  state            Negeri
ms  countryOrRegion  Negara
ms  nameLastFirst    Nama akhir, nama pertama

vi  firstName        Tên
vi  lastName?        Họ
vi  middleName       Tên đệm
vi  displayName      Họ và tên
vi  displayName      Họ tên
vi  companyName      Công ty
vi  emailAddress     Email
vi  emailAddress     Địa chỉ email
vi  emailAddress     Thư điện tử
vi  phone.mobile     Di động
vi  phone.mobile     Điện thoại di động
vi  phone.home       Điện thoại nhà riêng
vi  phone.business   Điện thoại cơ quan
vi  phone            Điện thoại
vi  phone            Số điện thoại
vi  street           Địa chỉ
vi  street           Đường
vi  postalCode       Mã bưu điện
vi  postalCode       Mã bưu chính
vi  city             Thành phố
vi  state            Tỉnh/Thành phố
vi  city             Quận/Huyện
vi  countryOrRegion  Quốc gia

ja  firstName        名
ja  lastName         姓
ja  lastName         苗字
ja  displayName      氏名
ja  displayName      名前
ja  displayName      姓名
ja  displayName      お名前
ja  displayName      フルネーム
ja  companyName      会社名
ja  companyName      会社
ja  companyName      勤務先
ja  emailAddress     メールアドレス
ja  emailAddress     Eメール
ja  emailAddress     電子メール
ja  emailAddress     電子メール アドレス
ja  phone.mobile     携帯電話
ja  phone.mobile     携帯
ja  phone.mobile     携帯番号
ja  phone.mobile     携帯電話番号
ja  phone.home       自宅電話
ja  phone.home       自宅電話番号
ja  phone.business   会社電話
ja  phone.business   勤務先電話
ja  phone.business   勤務先電話番号
ja  phone            電話番号
ja  phone            電話
ja  phone            TEL
ja  +business        会社
ja  +business        勤務先
ja  +home            自宅
ja  +other           その他
ja  street           住所
ja  street           番地
ja  street2          建物名
ja  postalCode       郵便番号
ja  city             市区町村
ja  state            都道府県
ja  countryOrRegion  国
ja  countryOrRegion  国/地域
ja  business.street      会社 番地
ja  business.city        会社 市区町村
ja  business.state       会社 都道府県
ja  business.postalCode  会社 郵便番号
ja  business.countryOrRegion  会社 国/地域
ja  home.street          自宅 番地
ja  home.city            自宅 市区町村
ja  home.state           自宅 都道府県
ja  home.postalCode      自宅 郵便番号
ja  home.countryOrRegion  自宅 国/地域

zh-Hans  firstName        名
zh-Hans  firstName        名字
zh-Hans  lastName         姓
zh-Hans  lastName         姓氏
zh-Hans  displayName      姓名
zh-Hans  displayName      全名
zh-Hans  displayName      客户姓名
zh-Hans  companyName      公司
zh-Hans  companyName      公司名称
zh-Hans  companyName      单位
zh-Hans  emailAddress     电子邮件
zh-Hans  emailAddress     电子邮件地址
zh-Hans  emailAddress     邮箱
zh-Hans  phone.mobile     手机
zh-Hans  phone.mobile     手机号
zh-Hans  phone.mobile     手机号码
zh-Hans  phone.mobile     移动电话
zh-Hans  phone.home       住宅电话
zh-Hans  phone.home       家庭电话
zh-Hans  phone.business   商务电话
zh-Hans  phone.business   单位电话
zh-Hans  phone.business   办公电话
zh-Hans  phone            电话
zh-Hans  phone            电话号码
zh-Hans  phone            联系电话
zh-Hans  +business        商务
zh-Hans  +business        单位
zh-Hans  +home            住宅
zh-Hans  +home            家庭
zh-Hans  +other           其他
zh-Hans  street           地址
zh-Hans  street           街道
zh-Hans  street           详细地址
zh-Hans  postalCode       邮政编码
zh-Hans  postalCode       邮编
zh-Hans  city             城市
zh-Hans  city             市
zh-Hans  state            省
zh-Hans  state            省份
zh-Hans  state            省/市/自治区
zh-Hans  countryOrRegion  国家
zh-Hans  countryOrRegion  国家/地区
zh-Hans  business.street      商务地址 街道
zh-Hans  business.city        商务地址 市/县
zh-Hans  business.state       商务地址 省/市/自治区
zh-Hans  business.postalCode  商务地址 邮政编码
zh-Hans  business.countryOrRegion  商务地址 国家/地区
zh-Hans  home.street          住宅地址 街道
zh-Hans  home.city            住宅地址 市/县
zh-Hans  home.state           住宅地址 省/市/自治区
zh-Hans  home.postalCode      住宅地址 邮政编码
zh-Hans  home.countryOrRegion  住宅地址 国家/地区

zh-Hant  firstName        名字
zh-Hant  lastName         姓氏
zh-Hant  displayName      全名
zh-Hant  displayName      客戶姓名
zh-Hant  companyName      公司名稱
zh-Hant  emailAddress     電子郵件
zh-Hant  emailAddress     電子郵件地址
zh-Hant  emailAddress     電郵
zh-Hant  phone.mobile     行動電話
zh-Hant  phone.mobile     手機
zh-Hant  phone.mobile     手機號碼
zh-Hant  phone.home       住家電話
zh-Hant  phone.business   公司電話
zh-Hant  phone            電話號碼
zh-Hant  phone            聯絡電話
zh-Hant  street           地址
zh-Hant  street           街道
zh-Hant  postalCode       郵遞區號
zh-Hant  postalCode       郵政編碼
zh-Hant  city             城市
zh-Hant  city             縣市
zh-Hant  state            省份
zh-Hant  countryOrRegion  國家
zh-Hant  countryOrRegion  國家/地區

ko  firstName        이름
ko  lastName         성
ko  displayName      성명
ko  displayName      전체 이름
ko  displayName      고객명
ko  companyName      회사
ko  companyName      회사명
ko  emailAddress     이메일
ko  emailAddress     전자 메일
ko  emailAddress     이메일 주소
ko  emailAddress     전자 메일 주소
ko  phone.mobile     휴대폰
ko  phone.mobile     휴대전화
ko  phone.mobile     휴대폰 번호
ko  phone.home       집 전화
ko  phone.business   회사 전화
ko  phone            전화
ko  phone            전화번호
ko  phone            연락처
ko  +business        회사
ko  +business        직장
ko  +home            집
ko  street           주소
ko  street           번지
ko  postalCode       우편번호
ko  city             시/군/구
ko  city             도시
ko  state            시/도
ko  countryOrRegion  국가
ko  countryOrRegion  국가/지역

th  firstName        ชื่อ
th  lastName         นามสกุล
th  displayName      ชื่อ-นามสกุล
th  displayName      ชื่อเต็ม
th  companyName      บริษัท
th  companyName      ชื่อบริษัท
th  emailAddress     อีเมล
th  emailAddress     ที่อยู่อีเมล
th  phone.mobile     มือถือ
th  phone.mobile     โทรศัพท์มือถือ
th  phone.mobile     เบอร์มือถือ
th  phone.home       โทรศัพท์บ้าน
th  phone.business   โทรศัพท์ที่ทำงาน
th  phone            โทรศัพท์
th  phone            เบอร์โทร
th  phone            เบอร์โทรศัพท์
th  street           ที่อยู่
th  street           ถนน
th  postalCode       รหัสไปรษณีย์
th  city             อำเภอ/เขต
th  city             เมือง
th  state            จังหวัด
th  countryOrRegion  ประเทศ

hi  firstName        पहला नाम
hi  lastName         उपनाम
hi  lastName         अंतिम नाम
hi  displayName      नाम
hi  displayName      पूरा नाम
hi  companyName      कंपनी
hi  emailAddress     ईमेल
hi  emailAddress     ईमेल पता
hi  phone.mobile     मोबाइल
hi  phone.mobile     मोबाइल नंबर
hi  phone.home       घर का फ़ोन
hi  phone.business   कार्यालय फ़ोन
hi  phone            फ़ोन
hi  phone            फ़ोन नंबर
hi  street           पता
hi  street           सड़क
hi  postalCode       पिन कोड
hi  postalCode       डाक कोड
hi  city             शहर
hi  state            राज्य
hi  countryOrRegion  देश

ar  firstName        الاسم الأول
ar  lastName         اسم العائلة
ar  lastName         الكنية
ar  displayName      الاسم
ar  displayName      الاسم الكامل
ar  companyName      الشركة
ar  companyName      اسم الشركة
ar  emailAddress     البريد الإلكتروني
ar  emailAddress     عنوان البريد الإلكتروني
ar  phone.mobile     الجوال
ar  phone.mobile     الهاتف المحمول
ar  phone.mobile     رقم الجوال
ar  phone.home       هاتف المنزل
ar  phone.business   هاتف العمل
ar  phone            الهاتف
ar  phone            رقم الهاتف
ar  street           العنوان
ar  street           الشارع
ar  postalCode       الرمز البريدي
ar  city             المدينة
ar  state            المنطقة
ar  state            المحافظة
ar  countryOrRegion  الدولة
ar  countryOrRegion  البلد

he  firstName        שם פרטי
he  lastName         שם משפחה
he  displayName      שם
he  displayName      שם מלא
he  companyName      חברה
he  companyName      שם החברה
he  emailAddress     דואר אלקטרוני
he  emailAddress     דוא"ל
he  emailAddress     אימייל
he  phone.mobile     טלפון נייד
he  phone.mobile     נייד
he  phone.home       טלפון בבית
he  phone.business   טלפון בעבודה
he  phone            טלפון
he  street           כתובת
he  street           רחוב
he  postalCode       מיקוד
he  city             עיר
he  city             יישוב
he  state            מחוז
he  countryOrRegion  מדינה
"""


def rows() -> list[tuple[str, str, str]]:
    """The table as (language, meaning, header) rows, in the order written."""
    out = []
    for line in WORDS.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            language, meaning, header = line.split(None, 2)
            out.append((language, meaning, header.strip()))
    return out
