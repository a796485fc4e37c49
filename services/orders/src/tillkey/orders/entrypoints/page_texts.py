"""The wording of this service's customer pages in every language but English (English is the key).

A test checks that every text the templates and views use has its translation here.
"""

TEXTS = {
    "de": {
        # checkout page
        "Checkout": "Kasse",
        "This cart has been checked out and can no longer change.":
            "Dieser Warenkorb wurde bereits bestellt und kann nicht mehr geändert werden.",
        "Please check the following:": "Bitte prüfen Sie Folgendes:",
        "Update": "Aktualisieren",
        "Your order": "Ihre Bestellung",
        "Your cart is empty.": "Ihr Warenkorb ist leer.",
        "Quantity": "Menge",
        "Remove": "Entfernen",
        "Remove {name}": "{name} entfernen",
        "Coupon": "Gutschein",
        "Coupon code": "Gutscheincode",
        "Remove coupon": "Gutschein entfernen",
        "optional": "optional",
        "Apply": "Einlösen",
        "Subtotal": "Zwischensumme",
        "Discount": "Rabatt",
        "Prices include tax where it applies.": "Preise inklusive gesetzlicher Steuern, sofern anfallend.",
        "Continue shopping": "Weiter einkaufen",
        "Your details": "Ihre Angaben",
        "Contact": "Kontakt",
        "Email": "E-Mail",
        "Your license and receipt are sent here.": "Hierhin senden wir Ihre Lizenz und Ihre Quittung.",
        "Billing details": "Rechnungsangaben",
        "First name": "Vorname",
        "Last name": "Nachname",
        "Country": "Land",
        "Select your country": "Land auswählen",
        "Company": "Firma",
        "VAT ID": "USt-IdNr.",
        "Payment method": "Zahlungsart",
        "Credit or debit card": "Kredit- oder Debitkarte",
        "Bank transfer": "Banküberweisung",
        "Pay now with Visa, Mastercard or another card.":
            "Jetzt mit Visa, Mastercard oder einer anderen Karte bezahlen.",
        "Get our bank details; your order is delivered when the money arrives.":
            "Sie erhalten unsere Bankverbindung; geliefert wird, sobald das Geld eingegangen ist.",
        "Consents": "Einwilligungen",
        "I accept the terms of sale of {merchant}.": "Ich akzeptiere die Verkaufsbedingungen von {merchant}.",
        "I accept the {terms} of {merchant}.": "Ich akzeptiere die {terms} von {merchant}.",
        "terms of sale": "Verkaufsbedingungen",
        "I agree that my personal data is processed to carry out this order, as the {privacy} describes.":
            "Ich willige ein, dass meine personenbezogenen Daten zur Abwicklung dieser Bestellung verarbeitet "
            "werden, wie in der {privacy} beschrieben.",
        "privacy notice": "Datenschutzerklärung",
        "I agree that my personal data is processed to carry out this order.":
            "Ich willige ein, dass meine personenbezogenen Daten zur Abwicklung dieser Bestellung verarbeitet werden.",
        "Continue to payment": "Weiter zur Zahlung",
        "You will pay on the next page. Your order is created when you continue.":
            "Sie bezahlen auf der nächsten Seite. Ihre Bestellung wird angelegt, wenn Sie fortfahren.",
        "The product was removed.": "Das Produkt wurde entfernt.",
        "The coupon was removed.": "Der Gutschein wurde entfernt.",
        "The coupon was applied.": "Der Gutschein wurde eingelöst.",
        "Your cart was updated.": "Ihr Warenkorb wurde aktualisiert.",
        "Enter a coupon code.": "Geben Sie einen Gutscheincode ein.",
        "This page has expired. Go back, reload it and try again.":
            "Diese Seite ist abgelaufen. Gehen Sie zurück, laden Sie sie neu und versuchen Sie es noch einmal.",
        # field errors
        "Enter a valid email address, like name@example.com.":
            "Geben Sie eine gültige E-Mail-Adresse ein, etwa name@example.com.",
        "Enter your first name.": "Geben Sie Ihren Vornamen ein.",
        "Enter your last name.": "Geben Sie Ihren Nachnamen ein.",
        "Select your country.": "Wählen Sie Ihr Land aus.",
        "The company name is too long (200 characters at most).": "Der Firmenname ist zu lang (höchstens 200 Zeichen).",
        "The VAT ID is too long (32 characters at most).": "Die USt-IdNr. ist zu lang (höchstens 32 Zeichen).",
        "Choose a payment method.": "Wählen Sie eine Zahlungsart.",
        "Please accept the terms of sale to continue.":
            "Bitte akzeptieren Sie die Verkaufsbedingungen, um fortzufahren.",
        "Please agree to the processing of your personal data to continue.":
            "Bitte willigen Sie in die Verarbeitung Ihrer Daten ein, um fortzufahren.",
        "Enter a quantity from 1 to 1000.": "Geben Sie eine Menge von 1 bis 1000 ein.",
        "This coupon code does not exist.": "Diesen Gutscheincode gibt es nicht.",
        "This coupon is no longer active.": "Dieser Gutschein ist nicht mehr gültig.",
        "This coupon has expired.": "Dieser Gutschein ist abgelaufen.",
        "This coupon has been used up.": "Dieser Gutschein ist bereits aufgebraucht.",
        "This coupon cannot be used in this currency.": "Dieser Gutschein gilt nicht in dieser Währung.",
        "The coupon can no longer be used. Remove it to continue.":
            "Der Gutschein ist nicht mehr einlösbar. Entfernen Sie ihn, um fortzufahren.",
        # order page
        "placed on {date}": "aufgegeben am {date}",
        "Payment": "Zahlung",
        "Paid": "Bezahlt",
        "Not paid yet": "Noch nicht bezahlt",
        "Refunded": "Erstattet",
        "Canceled": "Storniert",
        "Waiting for your payment of {amount}.": "Wir warten auf Ihre Zahlung von {amount}.",
        "Your last attempt did not go through:": "Ihr letzter Zahlungsversuch ist fehlgeschlagen:",
        "Go to payment": "Zur Zahlung",
        "Paid {amount}": "{amount} bezahlt",
        "on {date}": "am {date}",
        "{amount} of it has been refunded.": "Davon wurden {amount} erstattet.",
        "This order was refunded ({amount}).": "Diese Bestellung wurde erstattet ({amount}).",
        "This order was canceled.": "Diese Bestellung wurde storniert.",
        "Your products": "Ihre Produkte",
        "Order status": "Bestellstatus",
        "License key": "Lizenzschlüssel",
        "License keys": "Lizenzschlüssel",
        "License key {n} for {name}": "Lizenzschlüssel {n} für {name}",
        "Delivered": "Geliefert",
        "The seller is preparing your license; we will email it to you.":
            "Der Verkäufer bereitet Ihre Lizenz vor; wir senden sie Ihnen per E-Mail.",
        "Being prepared…": "Wird vorbereitet …",
        "Delivered after payment.": "Lieferung nach der Zahlung.",
        "Email my licenses again": "Lizenzen erneut per E-Mail senden",
        "We send them to {email}.": "Wir senden sie an {email}.",
        "We are emailing your licenses again.": "Wir senden Ihnen Ihre Lizenzen erneut per E-Mail.",
        "The licenses were sent again a moment ago; please check your mailbox.":
            "Die Lizenzen wurden gerade erst erneut gesendet; bitte sehen Sie in Ihr Postfach.",
        "Nothing has been delivered yet: the licenses are emailed as soon as they are.":
            "Es wurde noch nichts geliefert: Die Lizenzen kommen per E-Mail, sobald sie bereitstehen.",
        "Licenses are sent again for paid orders only.":
            "Lizenzen werden nur für bezahlte Bestellungen erneut gesendet.",
        # error page
        "No longer available": "Nicht mehr erhältlich",
        "This form has expired": "Dieses Formular ist abgelaufen",
        "This link does not work": "Dieser Link funktioniert nicht",
    },
}
