"""The payment page's wording in every language but English (English is the key).

A test checks that every text the templates and pay.js use has its translation here.
"""
from tillkey.payments.domain.failures import DEFAULT_MESSAGE, MESSAGES

# failure code → the English sentence (the page shows the customer's language; the API keeps English).
FAILURES = {**MESSAGES, "default": DEFAULT_MESSAGE}

# What pay.js writes into the page; handed over as JSON in the page's language.
SCRIPT_TEXTS = (
    "Enter the card number.", "This card number is not valid.", "Enter the expiry month (01–12).",
    "Enter the expiry year, like 2029.", "This card has expired.", "Enter the 3 or 4 digit security code.",
    "The card could not be checked. Please try again.", "The payment could not be started. Please try again.",
    "This is taking longer than usual. We will email you the result; you can also reload this page in a minute.",
    "Processing…", "Copied",
)

TEXTS = {
    "de": {
        "Pay your order": "Bestellung bezahlen",
        "Pay by card": "Mit Karte bezahlen",
        "Quantity": "Menge",
        "Discount": "Rabatt",
        "Test mode: no real money moves.": "Testmodus: Es fließt kein echtes Geld.",
        "Pay with one of these test cards, any future expiry date and any security code:":
            "Bezahlen Sie mit einer dieser Testkarten, einem beliebigen künftigen Ablaufdatum und einer "
            "beliebigen Prüfnummer:",
        "The payment succeeds.": "Die Zahlung gelingt.",
        "The card is declined (card_declined).": "Die Karte wird abgelehnt (card_declined).",
        "The card is declined for insufficient funds (insufficient_funds).":
            "Die Karte wird mangels Deckung abgelehnt (insufficient_funds).",
        "The gateway fails the first two tries of each charge, then it succeeds.":
            "Der Zahlungsdienst scheitert an den ersten zwei Versuchen jeder Belastung, dann gelingt sie.",
        "The payment succeeds; refunding it fails.": "Die Zahlung gelingt; ihre Erstattung scheitert.",
        "Tillkey collects payments for {merchant}.": "Tillkey nimmt Zahlungen für {merchant} entgegen.",
        "Pay {merchant}": "Zahlung an {merchant}",
        "How would you like to pay?": "Wie möchten Sie bezahlen?",
        "Payment method": "Zahlungsart",
        "Credit or debit card": "Kredit- oder Debitkarte",
        "Bank transfer": "Banküberweisung",
        "Card number": "Kartennummer",
        "Expiry date": "Ablaufdatum",
        "MM": "MM",
        "YYYY": "JJJJ",
        "Expiry month (MM)": "Ablaufmonat (MM)",
        "Expiry year (YYYY)": "Ablaufjahr (JJJJ)",
        "Security code (CVC)": "Prüfnummer (CVC)",
        "3 or 4 digits, on the back of the card.": "3 oder 4 Ziffern auf der Rückseite der Karte.",
        "Pay {amount}": "{amount} bezahlen",
        "Your card details go straight to our payment processor over an encrypted connection; "
        "{merchant} never sees them.":
            "Ihre Kartendaten gehen verschlüsselt direkt an unseren Zahlungsdienstleister; {merchant} sieht sie nie.",
        "You will get our bank details and a reference to write on the transfer. "
        "Your order is delivered when the money arrives.":
            "Sie erhalten unsere Bankverbindung und einen Verwendungszweck für die Überweisung. "
            "Geliefert wird, sobald das Geld eingegangen ist.",
        "Get bank transfer details": "Bankverbindung anzeigen",
        "Paying here needs JavaScript turned on.": "Zum Bezahlen muss JavaScript aktiviert sein.",
        "Processing your payment…": "Ihre Zahlung wird verarbeitet …",
        "This takes a few seconds. Please keep this page open.":
            "Das dauert nur wenige Sekunden. Bitte lassen Sie diese Seite geöffnet.",
        "The payment did not go through": "Die Zahlung ist fehlgeschlagen",
        "You have not been charged. You can try again or pay another way.":
            "Ihnen wurde nichts berechnet. Sie können es erneut versuchen oder anders bezahlen.",
        "Try again": "Erneut versuchen",
        "Choose another payment method": "Andere Zahlungsart wählen",
        "Pay by bank transfer": "Per Banküberweisung bezahlen",
        "Transfer the amount below with the reference exactly as shown. "
        "We confirm the payment when it arrives and email you.":
            "Überweisen Sie den Betrag mit genau diesem Verwendungszweck. "
            "Wir bestätigen die Zahlung nach Eingang per E-Mail.",
        "Amount": "Betrag",
        "Reference": "Verwendungszweck",
        "Account holder": "Kontoinhaber",
        "Bank": "Bank",
        "Pay by": "Zahlbar bis",
        "We have emailed these details to you as well.": "Diese Angaben haben wir Ihnen auch per E-Mail geschickt.",
        "Pay another way": "Anders bezahlen",
        "Thank you — your payment was received.": "Vielen Dank – Ihre Zahlung ist eingegangen.",
        "We are preparing your order; you will receive an email with everything you bought.":
            "Wir bereiten Ihre Bestellung vor; Sie erhalten eine E-Mail mit allem, was Sie gekauft haben.",
        "See your order and licenses": "Bestellung und Lizenzen ansehen",
        "This order was canceled": "Diese Bestellung wurde storniert",
        "It can no longer be paid.": "Sie kann nicht mehr bezahlt werden.",
        "Preparing your order": "Ihre Bestellung wird vorbereitet",
        "Preparing your order…": "Ihre Bestellung wird vorbereitet …",
        "Your order is being set up for payment. This page refreshes by itself in a moment.":
            "Ihre Bestellung wird für die Zahlung vorbereitet. Diese Seite lädt sich gleich von selbst neu.",
        "Order not found": "Bestellung nicht gefunden",
        "This payment link is not valid. Use the link from your checkout or email.":
            "Dieser Zahlungslink ist ungültig. Verwenden Sie den Link aus dem Checkout oder aus Ihrer E-Mail.",
        "This order has expired": "Diese Bestellung ist abgelaufen",
        "It was not paid in time and can no longer be paid.":
            "Sie wurde nicht rechtzeitig bezahlt und kann nicht mehr bezahlt werden.",
        # pay.js
        "Enter the card number.": "Geben Sie die Kartennummer ein.",
        "This card number is not valid.": "Diese Kartennummer ist ungültig.",
        "Enter the expiry month (01–12).": "Geben Sie den Ablaufmonat ein (01–12).",
        "Enter the expiry year, like 2029.": "Geben Sie das Ablaufjahr ein, etwa 2029.",
        "This card has expired.": "Diese Karte ist abgelaufen.",
        "Enter the 3 or 4 digit security code.": "Geben Sie die 3- oder 4-stellige Prüfnummer ein.",
        "The card could not be checked. Please try again.":
            "Die Karte konnte nicht geprüft werden. Bitte versuchen Sie es erneut.",
        "The payment could not be started. Please try again.":
            "Die Zahlung konnte nicht gestartet werden. Bitte versuchen Sie es erneut.",
        "This is taking longer than usual. We will email you the result; you can also reload this page in a minute.":
            "Das dauert länger als üblich. Wir senden Ihnen das Ergebnis per E-Mail; Sie können diese Seite "
            "auch in einer Minute neu laden.",
        "Processing…": "Wird verarbeitet …",
        # failures (by code)
        MESSAGES["card_declined"]: "Ihre Karte wurde abgelehnt. Versuchen Sie eine andere Karte oder Zahlungsart.",
        MESSAGES["insufficient_funds"]:
            "Ihre Karte ist nicht ausreichend gedeckt. Versuchen Sie eine andere Karte oder Zahlungsart.",
        MESSAGES["expired_card"]: "Ihre Karte ist abgelaufen. Versuchen Sie eine andere Karte.",
        MESSAGES["token_used"]: "Die Kartendaten wurden bereits verwendet. Bitte geben Sie sie erneut ein.",
        MESSAGES["token_invalid"]: "Die Kartendaten konnten nicht gelesen werden. Bitte geben Sie sie erneut ein.",
        MESSAGES["gateway_unavailable"]: "Der Zahlungsdienstleister ist nicht erreichbar. Bitte versuchen Sie es "
                                         "gleich noch einmal oder wählen Sie eine andere Zahlungsart.",
        DEFAULT_MESSAGE: "Die Zahlung konnte nicht abgeschlossen werden. Versuchen Sie es erneut oder wählen Sie "
                         "eine andere Zahlungsart.",
    },
}
